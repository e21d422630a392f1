"""`tellcity import-311`: load another city's 311 export as reports."""

from pathlib import Path

import click
from flask.cli import with_appcontext

from tellcity.core.db import refresh_planner_statistics
from tellcity.extensions import db
from tellcity.imports.mapping import (
    ImportMapping,
    MappingError,
    load_mapping,
    load_profile,
    profile_names,
)
from tellcity.imports.services import BATCH_SIZE, ImportFailed, import_file


@click.command("import-311")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option(
    "--profile",
    "profile_name",
    metavar="NAME",
    help=f"A shipped column mapping: {', '.join(profile_names())}.",
)
@click.option(
    "--mapping",
    "mapping_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A TOML column mapping for another city's export (see the README).",
)
@click.option(
    "--city", "city_slug", metavar="SLUG", help="The city to import into [the mapping's]."
)
@click.option(
    "--city-name", metavar="NAME", help="The city's name if the import creates it [the mapping's]."
)
@click.option(
    "--batch-size",
    metavar="N",
    type=click.IntRange(1, 10_000),
    default=BATCH_SIZE,
    show_default=True,
    help="Rows written per commit.",
)
@click.option(
    "--rejects",
    "rejects_file",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write each skipped row to this CSV file, as it was, with its line and the reason; "
    "fix the rows and import the file again.",
)
@with_appcontext
def import_311_command(
    file: Path,
    profile_name: str | None,
    mapping_file: Path | None,
    city_slug: str | None,
    city_name: str | None,
    batch_size: int,
    rejects_file: Path | None,
):
    """Import the 311 export FILE (CSV) as reports, through a column mapping: a shipped
    --profile or a --mapping file. The city is created, marked imported, if it does not exist;
    running the same import again adds nothing."""
    mapping = _mapping(profile_name, mapping_file)
    with click.progressbar(length=file.stat().st_size, label=f"Importing {file.name}") as bar:

        def progress(done: int) -> None:
            bar.update(done - bar.pos)

        try:
            result = import_file(
                file,
                mapping,
                city_slug=city_slug,
                city_name=city_name,
                batch_size=batch_size,
                progress=progress,
                rejects=rejects_file,
            )
        except ImportFailed as error:
            raise click.ClickException(str(error)) from error
    for line in result.summary():
        click.echo(line)
    rate = result.rows / result.seconds if result.seconds else 0
    click.echo(f"{result.rows:,} rows read in {result.seconds:.1f} s ({rate:,.0f} rows/s).")
    # Thousands of new reports change how selective each index is (SQLite only needs telling).
    refresh_planner_statistics(db.engine)


def _mapping(profile_name: str | None, mapping_file: Path | None) -> ImportMapping:
    """The mapping named by exactly one of --profile and --mapping."""
    if (profile_name is None) == (mapping_file is None):
        raise click.UsageError("give either --profile NAME or --mapping FILE")
    try:
        if profile_name is not None:
            return load_profile(profile_name)
        return load_mapping(mapping_file)
    except MappingError as error:
        option = "--profile" if profile_name else "--mapping"
        raise click.BadParameter(str(error), param_hint=option) from error
