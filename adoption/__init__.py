"""adoption: survey pipeline for research on the adoption of AI.

The package is laid out as its data flow::

    vocabulary.py  the shared names: lavaan's columns, estimators, seed, exclusion reasons
    spec.py        survey specification (YAML) -> Survey
    readers/       export file -> RawTable (one reader per format)
    load/          export file -> LoadedResponses
    clean.py       LoadedResponses -> CleanedResponses (+ exclusion log);
                   screening.py holds its careless-response rules
    describe.py    CleanedResponses -> item descriptives
    measurement/   CleanedResponses -> MeasurementResults
    structural/    CleanedResponses -> StructuralResults
    pls/           CleanedResponses -> PLSResults (when the spec asks for PLS-SEM)
    rundir.py      results -> run directory (atomic)
    pipeline.py    calls the stages in order
    cli.py         the ``adoption`` command

Tools beside the pipeline: ``simulate/`` (simulated exports with a truth record) and
``power/`` (Monte Carlo power of the composite path model).
"""

__version__ = "0.1.0"
