"""The documentation: the generated pages are current, nothing the code offers is undocumented,
the README stays a front page, and every relative link leads somewhere.

Each guard is also run against a page or a command made to fail it, so none of them can pass
by checking nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from newsfm.pipelines.cli import main
from newsfm.pipelines.docs import render_cli, render_pages, render_reasons
from newsfm.transforms.frontmatter import REASONS, SKIPPED_REASONS

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
GENERATED = ("tables.md", "cli.md", "reasons.md", "fields.md")
README_MAX_LINES = 200


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write_pages(folder: Path) -> dict[str, str]:
    pages = render_pages(main)
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in pages.items():
        (folder / name).write_text(text, encoding="utf-8")
    return pages


# --- newsfm docs ----------------------------------------------------------------------------


def test_docs_check_passes_on_the_repository(runner, monkeypatch):
    """docs/{tables,cli,reasons}.md are what the code renders: the guard against changing a schema,
    a command or a reason code without `newsfm docs`."""
    monkeypatch.chdir(REPO)
    result = runner.invoke(main, ["docs", "--check"])
    assert result.exit_code == 0, result.output
    assert result.output == ""


def test_docs_writes_every_page_that_check_accepts(runner, tmp_path):
    """`newsfm docs DIR` creates DIR with the three generated pages; --check then passes."""
    folder = tmp_path / "new" / "docs"
    result = runner.invoke(main, ["docs", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.stdout == "".join(f"wrote {folder / name}\n" for name in GENERATED)
    assert sorted(path.name for path in folder.iterdir()) == sorted(GENERATED)
    for name, text in render_pages(main).items():
        assert (folder / name).read_text(encoding="utf-8") == text
    assert runner.invoke(main, ["docs", "--check", str(folder)]).exit_code == 0


@pytest.mark.parametrize("name", GENERATED)
def test_docs_check_fails_on_one_stale_page(runner, tmp_path, name):
    """--check exits 1 naming the one stale page and the fix, and rewrites nothing."""
    write_pages(tmp_path)
    page = tmp_path / name
    stale = page.read_text(encoding="utf-8").replace("|", "¦", 1)
    page.write_text(stale, encoding="utf-8")
    result = runner.invoke(main, ["docs", "--check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == f"newsfm: {page} is stale: run `newsfm docs`\n"
    assert page.read_text(encoding="utf-8") == stale


def test_docs_check_fails_on_missing_pages(runner, tmp_path):
    """--check on a folder without the pages exits 1 naming them all, and creates nothing."""
    result = runner.invoke(main, ["docs", "--check", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr == (
        f"newsfm: {', '.join(str(tmp_path / name) for name in GENERATED)} are stale: run `newsfm docs`\n"
    )
    assert list(tmp_path.iterdir()) == []


# --- every command, option and reason code is documented -----------------------------------


def sections(page: str) -> dict[str, str]:
    """The text under each `## heading` of a page, by heading."""
    parts = re.split(r"^## (.+)$", page, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def undocumented(group: click.Group, page: str) -> list[str]:
    """Every command of `group` without its section in the page, and every argument and option
    (each of its spellings) missing from its command's section."""
    found = sections(page)
    missing = []
    for name, command in group.commands.items():
        section = found.get(f"`newsfm {name}`")
        if section is None:
            missing.append(name)
            continue
        for param in command.params:
            if isinstance(param, click.Option):
                spellings = [*param.opts, *param.secondary_opts]
            else:
                spellings = [param.human_readable_name]
            missing += [f"{name} {spelling}" for spelling in spellings if f"`{spelling}`" not in section]
    return missing


def test_every_command_and_option_is_in_cli_md():
    """docs/cli.md has a section per command naming each of its arguments and options."""
    assert undocumented(main, (DOCS / "cli.md").read_text(encoding="utf-8")) == []
    # and each option has its help in its row
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name, command in main.commands.items():
        section = sections(page)[f"`newsfm {name}`"]
        for option in (param for param in command.params if isinstance(param, click.Option)):
            assert " ".join(option.help.split()) in section, (name, option.name)


def with_extra(group: click.Group, command_name: str, *params: click.Parameter) -> click.Group:
    """A copy of `group` whose command `command_name` has `params` besides its own."""
    copy = click.Group("newsfm", help=group.help)
    for name, command in group.commands.items():
        if name == command_name:
            command = click.Command(name, params=[*command.params, *params], help=command.help)
        copy.add_command(command, name)
    return copy


def test_undocumented_options_and_commands_are_caught():
    """A new option, a new spelling, or a new command that cli.md lacks is reported; rendering
    the page again documents them."""
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    grown = with_extra(main, "build", click.Option(["--brand-new"], help="Not documented yet."),
                       click.Option(["--colour/--no-colour"], help="Neither."))
    grown.add_command(click.Command("fresh", help="A command nobody documented."))
    assert undocumented(grown, page) == ["build --brand-new", "build --colour", "build --no-colour", "fresh"]
    assert undocumented(grown, render_cli(grown)) == []
    # an option documented for another command does not count for this one
    serve_only = with_extra(main, "analytics", click.Option(["--cron"], help="Documented under serve only."))
    assert undocumented(serve_only, page) == ["analytics --cron"]


def reason_rows(page: str) -> list[str]:
    return re.findall(r"^\| `([a-z0-9_]+)` \|", page, flags=re.MULTILINE)


def test_every_reason_code_is_in_reasons_md():
    """docs/reasons.md has one row per reason code of REASONS, in its order, with the status it
    gives and its meaning."""
    page = (DOCS / "reasons.md").read_text(encoding="utf-8")
    assert reason_rows(page) == list(REASONS)
    for code, meaning in REASONS.items():
        status = "skipped" if code in SKIPPED_REASONS else "rejected"
        assert f"| `{code}` | {status} | {' '.join(meaning.split())} |" in page, code
    assert SKIPPED_REASONS == {"not_news", "unsupported_file"}
    grown = {**REASONS, "brand_new": "a reason nobody documented"}
    assert reason_rows(page) != list(grown)
    assert reason_rows(render_reasons(grown)) == list(grown)


# --- the README ------------------------------------------------------------------------------


def test_readme_is_a_front_page():
    """README.md stays short, keeps the two set-up commands and shows the committed report picture."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= README_MAX_LINES
    assert re.search(r"^make run\b", readme, re.MULTILINE)
    assert re.search(r"^make test\b", readme, re.MULTILINE)
    assert "![" in readme and "(docs/images/report.png)" in readme
    picture = (REPO / "docs" / "images" / "report.png").read_bytes()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(picture) < 300 * 1024


# --- links -----------------------------------------------------------------------------------

LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE = re.compile(r"`[^`\n]*`")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: str) -> set[str]:
    return {slug(heading) for heading in re.findall(r"^#{1,6} (.+)$", FENCE.sub("", page), re.MULTILINE)}


def broken_links(path: Path) -> list[str]:
    """The relative links of a Markdown file whose file, or whose anchor in a Markdown file, is missing."""
    page = path.read_text(encoding="utf-8")
    text = CODE.sub("", FENCE.sub("", page))
    broken = []
    for target in LINK.findall(text):
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(target)
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked.read_text(encoding="utf-8")):
            broken.append(target)
    return broken


PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md")), REPO / "tests" / "hostile" / "README.md"]


@pytest.mark.parametrize("path", PAGES, ids=lambda path: str(path.relative_to(REPO)))
def test_relative_links_resolve(path):
    """Every relative link (and image) in the README and docs/ points to a file that exists, and
    an anchor to a heading of that page."""
    assert broken_links(path) == []


def test_broken_links_are_caught(tmp_path):
    """A link to a missing file or a missing heading is reported; code, URLs and good links are not."""
    (tmp_path / "other.md").write_text("# Other\n\n## Output and publishing\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[fine](other.md) [fine too](other.md#output-and-publishing) [here](#page)\n"
        "[web](https://example.com/missing.md) `[not a link](nowhere.md)`\n"
        "```\n[in a block](nowhere.md)\n```\n"
        "[gone](missing.md) ![gone too](images/missing.png) [bad anchor](other.md#nothing) [bad here](#nothing)\n"
    )
    assert broken_links(page) == ["missing.md", "images/missing.png", "other.md#nothing", "#nothing"]
