"""Packages for setuptools (the rest of the configuration is in pyproject.toml).

adoption's packages are found on disk; the dashboard's source, the top-level
``dashboard/`` folder, is mapped into the package as ``adoption.dashboard_app`` so that a
wheel install serves it (``adoption.dashboard_launch.APP``). pyproject.toml alone cannot
combine a package search with mapped folders.
"""

from setuptools import find_packages, setup

DASHBOARD = {"adoption.dashboard_app": "dashboard", "adoption.dashboard_app.views": "dashboard/views"}

setup(packages=find_packages(include=["adoption", "adoption.*"]) + list(DASHBOARD),
      package_dir=DASHBOARD)
