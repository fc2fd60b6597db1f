"""adoption: survey pipeline for research on the adoption of AI.

The package is laid out as its data flow::

    spec.py        survey specification (YAML) -> Survey
    load.py        export file -> LoadedResponses
    clean.py       LoadedResponses -> CleanedResponses (+ exclusion log)
    describe.py    CleanedResponses -> item descriptives
    measurement/   CleanedResponses -> MeasurementResults
    structural/    CleanedResponses -> StructuralResults
    rundir.py      results -> run directory (atomic)
    pipeline.py    calls the stages in order
    cli.py         the ``adoption`` command
"""

__version__ = "0.1.0"
