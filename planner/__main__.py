"""``python -m planner`` runs the ``whatif`` CLI."""

from planner.cli import main

if __name__ == "__main__":
    main()
