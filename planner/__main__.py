"""``python -m planner`` runs the ``whatif`` CLI (the working directory is taken off ``sys.path``
first: see :func:`planner._drop_working_directory_for_python_m`)."""

from planner.cli.app import main

if __name__ == "__main__":
    main()
