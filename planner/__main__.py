"""``python -m planner`` runs the ``whatif`` CLI."""

from planner.cli.app import main

if __name__ == "__main__":
    main()
