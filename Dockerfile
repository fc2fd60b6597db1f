# The dashboard as a container: the build builds the wheel, runs the wheel test
# (tests/test_packaging.py: install into a fresh venv, start the dashboard, get its page)
# and installs only the wheel into the final image.
#   docker build -t adoption .
#   docker run -p 127.0.0.1:8501:8501 -v $PWD/reports:/runs:ro \
#       -v $PWD/users.json:/users.json:ro adoption
# Accounts: adoption dashboard-user add NAME --users users.json (on the host or in the image).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY adoption adoption
COPY dashboard dashboard
COPY tests/conftest.py tests/test_packaging.py tests/
RUN pip install --no-cache-dir "build>=1.2" "pytest>=8" \
 && python -m build --wheel --outdir /dist . \
 && pip install --no-cache-dir /dist/*.whl \
 && python -m pytest -q -p no:cacheprovider tests/test_packaging.py

FROM python:3.11-slim
COPY --from=build /dist /dist
RUN pip install --no-cache-dir /dist/*.whl && rm -rf /dist \
 && useradd --create-home --uid 10001 reader
USER reader
WORKDIR /home/reader
EXPOSE 8501
ENTRYPOINT ["adoption", "dashboard", "/runs", "--host", "0.0.0.0", "--port", "8501", "--users", "/users.json"]
