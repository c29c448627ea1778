"""`python -m formflow …` runs the `formflow` command group of the app."""

import sys

from flask.cli import FlaskGroup

from formflow.app import create_app


def main() -> None:
    cli = FlaskGroup(create_app=create_app)
    cli.main(args=["formflow", *sys.argv[1:]], prog_name="python -m formflow")


if __name__ == "__main__":
    main()
