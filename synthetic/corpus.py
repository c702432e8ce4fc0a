"""A synthetic news corpus in the Smartable format, the same bytes for the same (count, seed).

Pure (no file I/O, no clock, no global random state): `generate_corpus` yields (relative POSIX
path, bytes) and `synthetic.write` writes them. It exists for benchmarks at 20,000 and 100,000
files, so it has to look like the real thing to the pipeline: the shares it draws with are
measured (`synthetic.calibration`), its words and URL styles read like real ones (`synthetic.vocabulary`).

How it is built: stories, one at a time, in date order. A story is one piece of news and its
coverage by other providers (its *items*). Some items become files, the others are only named
in the `related` lists of those files; every file of a story lists the story's other items, so
related items join articles and stories merge across files, and one URL always carries the
same title, provider and date. Only the current story is held in memory, so memory stays
small however many files are asked for.
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import random
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from newsfm.synthetic.calibration import (
    AI_FIRST,
    AMP_SHARE,
    ARCHIVE_SHARE,
    BROKEN_SHARE,
    CURLY_SHARE,
    DUPLICATE_SHARE,
    EXCERPT_CUT_SHARE,
    EXTRA_TOPICS,
    FILED_SHARE,
    FILENAME_NEXT_DAY,
    HEAT_IS_QUALITY,
    HEAT_MINUS_ONE,
    HOUR_WEIGHTS,
    IMAGE_CACHED,
    IMAGE_SHARE,
    IMAGE_SIZES,
    IMAGE_TITLED,
    LAG_MAX_HOURS,
    LAG_MEAN_HOURS,
    LOGO_RELATIVE,
    LOGO_SHARE,
    MIDNIGHT_SHARE,
    OBSERVED_TOPIC_SHARE,
    ORIGINAL_URL_ELSEWHERE,
    ORIGINAL_URL_SHARE,
    PUBLISHED_TRUE,
    QUALITY_MEDIAN,
    QUALITY_SIGMA,
    QUOTED_PHRASE_SHARE,
    RELATED_EXCERPT_MAX,
    SCORED_SHARE,
    SECURED_BLOCKS,
    SITE_WEIGHTS,
    SPAN_DAYS,
    START,
    SYNTHETIC_PROVIDERS,
    TAXONOMY_COPY_SHARE,
    TAXONOMY_NO_NEWLINE,
    TAXONOMY_STRAY_END,
    TAXONOMY_SUBSET_SHARE,
    TITLE_CASE_SHARE,
    UNQUOTED_URLS,
    WWW_SHARE,
    ZIPF_EXPONENT,
    day_cumulative,
    story_size_weights,
    zipf_cumulative,
)
from newsfm.synthetic.styles import STYLES, restyle
from newsfm.synthetic.vocabulary import (
    CITIES,
    COMPANIES,
    CONCERNS,
    FIELDS,
    FIRST_NAMES,
    IMAGE_PATHS,
    LAST_NAMES,
    MONTHS,
    OBSERVED_TOPICS,
    REAL_PROVIDERS,
    SECTIONS,
    SENTENCES,
    SLOT_DRAWS,
    SLOT_WORDS,
    STARTUP_PARTS,
    SYNTHETIC_NAME_PARTS,
    TITLES,
    TLDS,
    TOPICS,
    URL_PATHS,
    UTM,
    Topic,
)

BROKEN_KINDS = ("no_front_matter", "unterminated_front_matter", "bad_value")  # taken in turn (BROKEN_SHARE)
_SLOT = re.compile(r"\{(\w+)\}")  # a slot of the vocabulary's templates: `{co} {launches} {thing}`


class GeneratedFile(NamedTuple):
    path: str
    data: bytes
    expect: str  # "article", "duplicate" (a second file of one canonical URL), "taxonomy", or its reject reason


class Provider(NamedTuple):
    domain: str
    name: str
    style: int  # picks the URL path, AMP and image URL style, stable per provider


@dataclass
class Item:
    """One piece of news: a file, or only a related entry in other files; one URL, one rendering."""

    url: str
    amp: str | None
    cdn_amp: str | None
    title: str
    excerpt: str  # as an article shows it
    related_excerpt: str  # as related lists show it (cut at RELATED_EXCERPT_MAX)
    published_at: dt.datetime
    provider: Provider
    quality: int
    image: tuple[str, int, int] | None
    image_cached: bool  # isCached on its image in related lists
    filed: bool
    related_yaml: str = ""


def generate_corpus(count: int, seed: int = 0, style: str = "smartable") -> Iterator[tuple[str, bytes]]:
    """`count` news files plus a topic taxonomy, as (relative POSIX path, bytes), their front
    matter in `style` (`synthetic.styles`); same arguments, same bytes."""
    for file in generate_files(count, seed, style):
        yield file.path, file.data


def generate_files(count: int, seed: int = 0, style: str = "smartable") -> Iterator[GeneratedFile]:
    """As `generate_corpus`, with what each file was built to be, so tests can check the pipeline's verdicts.
    The style changes only the news files' bytes: the same seed gives the same news in every style."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}: one of {', '.join(STYLES)}")
    rng = random.Random(seed)
    yield from taxonomy_files(rng)
    for file in NewsWriter(rng, count).files():
        yield file if style == "smartable" else file._replace(data=restyle(file.path, file.data, style, seed))


# ---- The taxonomy.


def taxonomy_files(rng: random.Random) -> Iterator[GeneratedFile]:
    """One taxonomy per site, as the real tree holds one per repository: site 0 has every topic, the
    others a subset, some topics twice (numbered and unnumbered file), as insideout does."""
    stray_end, no_newline = Quota(TAXONOMY_STRAY_END, rng), Quota(TAXONOMY_NO_NEWLINE, rng)

    def ending() -> str:
        return "\n---" if stray_end.due() else "" if no_newline.due() else "\n"

    for site in range(len(SITE_WEIGHTS)):
        for topic in TOPICS:
            if site and topic.parent and rng.random() >= TAXONOMY_SUBSET_SHARE:
                continue
            yield taxonomy_file(rng, site, topic, f"{topic.number}-{topic.id}.yaml", ending())
            if site and rng.random() < TAXONOMY_COPY_SHARE:
                yield taxonomy_file(rng, site, topic, f"{topic.id}.yaml", ending())


def taxonomy_file(rng: random.Random, site: int, topic: Topic, name: str, ending: str) -> GeneratedFile:
    base = site_base(site)
    api = f"{base}/api/news/" + (f"{topic.id}/" if topic.parent else "")
    keywords = list(topic.keywords)
    if rng.random() < 0.3:  # real copies of one topic list different keywords; the pipeline unites them
        rng.shuffle(keywords)
        keywords = keywords[: rng.randint(1, len(keywords))]
    lines = ["taxonomy: topic", f"_id: {topic.id}", f"name: {topic.name}"]
    if rng.random() < 0.3:
        lines.append(f"shortname: {topic.name.split()[-1]}")
    if topic.parent:
        lines.append(f"parent: {topic.parent}")
    lines += ["keywords:", *(f"  - {keyword}" for keyword in keywords)]
    if rng.random() < 0.5:
        lines += ["hashtags:", f'  - "#{topic.id.replace("-", "")}"']
    lines += ["images:", *(f"  - {base}/assets/images/topics/{topic.id}{suffix}.jpg"
                           for suffix in ("", "-2", "-3", "-4")[: rng.randint(1, 4)])]
    lines += ["services:", f"  news: {api}"]
    if rng.random() < 0.4:
        lines += [f"  {service}: {base}/api/{service}/" + (f"{topic.id}/" if topic.parent else "")
                  for service in ("learning", "projects", "companies")]
    return GeneratedFile(f"site-{site}/_data/topics/{name}", ("\n".join(lines) + ending).encode(), "taxonomy")


def site_base(site: int) -> str:
    """Where a site's own assets live (logos, topic images), like `https://insideout.app/ai`."""
    return f"https://site-{site}.example.org/ai"


# ---- Small pure helpers.


class Quota:
    """A share spread evenly over a stream: `due()` is true share·n times in n calls (±1), so even a
    small corpus gets its few broken files or stray endings, at a seeded phase."""

    def __init__(self, share: float, rng: random.Random):
        self.share = share
        self.owed = rng.random()

    def due(self) -> bool:
        self.owed += self.share
        if self.owed < 1:
            return False
        self.owed -= 1
        return True


def quoted(text: str) -> str:
    """A YAML double-quoted scalar; the real files escape quotes as \\"."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_PLAIN_UNSAFE = re.compile(r"^[-?:,\[\]{}#&*!|>'\"%@`\s]|: | #|\s$")


def plain(text: str) -> str:
    """A plain scalar where YAML reads it back unchanged (real provider names are plain), else quoted."""
    return quoted(text) if _PLAIN_UNSAFE.search(text) else text


def slugify(title: str) -> str:
    """`OpenAI’s DALL-E, explained` → `openais-dall-e-explained`, as the real file names are made."""
    folded = unicodedata.normalize("NFKD", title.replace("'", "").replace("’", "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


_QUOTE_PAIR = re.compile(r'"([^"]*)"')


def typeset(text: str, curly: bool) -> str:
    """Straight or typographic punctuation: about half the real items use ’ “ ” — (the non-ASCII mix)."""
    if not curly:
        return text.replace(" -- ", " - ")
    return _QUOTE_PAIR.sub(r"“\1”", text).replace("'", "’").replace(" -- ", " — ")


SMALL_WORDS = frozenset(("a", "an", "and", "as", "at", "but", "by", "for", "in", "of", "on", "or", "the", "to", "vs"))


def title_case(title: str) -> str:
    """`Amazon bars police from using its technology` → `Amazon Bars Police From Using Its Technology`."""
    words = title.split(" ")
    return " ".join(
        word if i and word in SMALL_WORDS else word[:1].upper() + word[1:] for i, word in enumerate(words)
    )


def timestamp(moment: dt.datetime) -> str:
    """The real form: `2020-06-10T22:17:00Z`, whole minutes in UTC."""
    return f"{moment:%Y-%m-%dT%H:%M}:00Z"


def cut(text: str, limit: int) -> str:
    """Cut at a word boundary before `limit` characters and mark it " ...", as the real excerpts are."""
    if len(text) <= limit:
        return text
    end = text.rfind(" ", 0, limit - 4)
    return text[: end if end > 0 else limit - 4].rstrip(",;:—-– ") + " ..."


# ---- News files.


class NewsWriter:
    """Writes `count` news files, story by story in date order, from one `random.Random`."""

    def __init__(self, rng: random.Random, count: int):
        self.rng = rng
        self.count = count
        self.providers = self.make_providers()
        self.provider_weights = zipf_cumulative(len(self.providers), ZIPF_EXPONENT)
        self.day_weights = day_cumulative()
        self.story_sizes, self.story_weights = story_size_weights()
        self.topic_weights = [topic.weight for topic in TOPICS]
        self.written = 0
        self.next_id = 0
        self.broken, self.duplicates = Quota(BROKEN_SHARE, rng), Quota(DUPLICATE_SHARE, rng)
        self.broken_made = 0
        self.paths: dict[dt.date, set[str]] = {}  # paths taken, only for days a later story can still use

    # -- providers

    def make_providers(self) -> list[Provider]:
        """The real providers first (most popular), then synthetic ones with distinct domains."""
        rng = self.rng
        providers = [Provider(domain, name, zlib.crc32(domain.encode()) % 7) for domain, name in REAL_PROVIDERS]
        taken = {domain for domain, _ in REAL_PROVIDERS}
        tlds, tld_weights = zip(*TLDS)
        while len(providers) < len(REAL_PROVIDERS) + SYNTHETIC_PROVIDERS:
            first, second = rng.choice(SYNTHETIC_NAME_PARTS[0]), rng.choice(SYNTHETIC_NAME_PARTS[1])
            the = "The " if rng.random() < 0.3 else ""
            name = f"{the}{rng.choice(CITIES) if rng.random() < 0.3 else first} {second}"
            domain = slugify(name.removeprefix("The ")).replace("-", "") + rng.choices(tlds, tld_weights)[0]
            if domain not in taken:
                taken.add(domain)
                providers.append(Provider(domain, name, zlib.crc32(domain.encode()) % 7))
        return providers

    def provider(self, avoid: list[Provider]) -> Provider:
        """Zipf-skewed, and different from the story's other providers when a few draws allow."""
        for _ in range(4):
            chosen = self.rng.choices(self.providers, cum_weights=self.provider_weights)[0]
            if chosen not in avoid:
                break
        return chosen

    # -- dates

    def story_start(self) -> dt.datetime:
        """Dates follow progress through the corpus, so stories come in date order over SPAN_DAYS."""
        position = self.written / max(self.count, 1) * self.day_weights[-1]
        day = START + dt.timedelta(days=min(bisect.bisect_left(self.day_weights, position), SPAN_DAYS - 1))
        block = self.rng.choices(range(6), HOUR_WEIGHTS)[0]
        return dt.datetime(day.year, day.month, day.day) + dt.timedelta(minutes=block * 240 + self.rng.randrange(240))

    def item_time(self, start: dt.datetime, lead: bool) -> dt.datetime:
        if lead:
            return start
        hours = min(self.rng.expovariate(1 / LAG_MEAN_HOURS), LAG_MAX_HOURS)
        return start + dt.timedelta(minutes=int(hours * 60))

    # -- stories

    def files(self) -> Iterator[GeneratedFile]:
        while self.written < self.count:
            yield from self.story_files()

    def story_files(self) -> Iterator[GeneratedFile]:
        """One story: its items, then a file for each filed item while the count allows."""
        rng = self.rng
        start = self.story_start()
        self.forget_paths_before(start.date())
        topics = self.story_topics()
        theme = self.theme(topics)
        size = rng.choices(self.story_sizes, self.story_weights)[0]
        items: list[Item] = []
        for i in range(size):
            filed = i == 0 or rng.random() < FILED_SHARE
            items.append(self.item(theme, self.item_time(start, i == 0), filed, [it.provider for it in items]))
        for item in items:
            item.related_yaml = self.related_yaml(item)
        by_quality = sorted(items, key=lambda it: -it.quality)  # real related lists: quality descending, 13/13
        for item in items:
            if not item.filed or self.written >= self.count:
                continue
            related = [other for other in by_quality if other is not item]
            yield from self.item_files(item, related, topics)

    def item_files(self, item: Item, related: list[Item], topics: list[str]) -> Iterator[GeneratedFile]:
        """The item's file (broken when a broken file is due), and a duplicate of it when one is due."""
        broken = None
        if self.broken.due():
            broken = BROKEN_KINDS[self.broken_made % len(BROKEN_KINDS)]
            self.broken_made += 1
        yield self.news_file(item, related, topics, item.url, broken)
        if broken is None and self.written < self.count and self.duplicates.due():
            yield self.news_file(item, related, topics, self.url_variant(item.url), None)

    def story_topics(self) -> list[str]:
        """AI plus 0-3 more from the taxonomy by their real frequency (each file orders them itself)."""
        rng = self.rng
        extra = rng.choices(list(EXTRA_TOPICS), list(EXTRA_TOPICS.values()))[0]
        names: list[str] = []
        while len(names) < extra:
            name = rng.choices(TOPICS, self.topic_weights)[0].name
            if name not in names:
                names.append(name)
        return names

    def theme(self, topics: list[str]) -> dict:
        """What the story is about; its items reuse it, so their titles read as one story."""
        rng = self.rng
        topic = next((t for t in TOPICS if t.name == topics[0]), TOPICS[0]) if topics else TOPICS[0]
        return {
            "co": self.company(topic),
            "co2": self.company(TOPICS[0]),
            "thing": rng.choice(topic.things),
            "field": rng.choice(FIELDS),
            "city": rng.choice(CITIES),
            "concern": rng.choice(CONCERNS),
            "person": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        }

    def company(self, topic: Topic) -> str:
        rng = self.rng
        if topic.companies and rng.random() < 0.7:
            return rng.choice(topic.companies)
        if rng.random() < 0.4:
            return rng.choice(STARTUP_PARTS[0]) + rng.choice(STARTUP_PARTS[1])
        return rng.choice(COMPANIES)

    # -- items

    def item(self, theme: dict, published_at: dt.datetime, filed: bool, avoid: list[Provider]) -> Item:
        """One item of a story, with everything that must read the same wherever its URL appears."""
        rng = self.rng
        if filed and rng.random() < MIDNIGHT_SHARE:
            published_at = published_at.replace(hour=0, minute=0)
        provider = self.provider(avoid)
        curly = rng.random() < CURLY_SHARE
        template = rng.choice(TITLES)
        if '"' in template and rng.random() >= QUOTED_PHRASE_SHARE:
            template = template.replace('"', "")  # most titles quote nobody
        title = typeset(self.fill(template, theme, published_at), curly)
        if rng.random() < TITLE_CASE_SHARE:
            title = title_case(title)
        full = typeset(self.excerpt_text(theme, published_at), curly)
        url = self.web_url(provider, slugify(title), published_at)
        amp = self.amp_url(url, provider) if rng.random() < AMP_SHARE["related"] else None
        image = None
        if rng.random() < IMAGE_SHARE["related"]:
            width, height = rng.choice(IMAGE_SIZES)
            image = (self.image_url(provider, slugify(title), published_at), width, height)
        return Item(
            url=url, amp=amp, cdn_amp=self.cdn_amp_url(amp) if amp else None, title=title,
            excerpt=self.cut_excerpt(full), related_excerpt=cut(full, RELATED_EXCERPT_MAX),
            published_at=published_at, provider=provider, image=image, filed=filed,
            image_cached=rng.random() < IMAGE_CACHED["related"],
            quality=max(1, min(300, round(rng.lognormvariate(0, QUALITY_SIGMA) * QUALITY_MEDIAN))),
        )

    def fill(self, template: str, theme: dict, moment: dt.datetime) -> str:
        """A template with the story's theme and fresh details; only the slots it has are drawn."""

        def value(match: re.Match) -> str:
            name = match.group(1)
            if name in theme:
                return theme[name]
            if name in SLOT_WORDS:
                return _SLOT.sub(value, self.rng.choice(SLOT_WORDS[name]))  # phrases may hold slots
            return SLOT_DRAWS[name](self.rng, moment)

        return _SLOT.sub(value, template)

    def excerpt_text(self, theme: dict, moment: dt.datetime) -> str:
        """Three to four sentences, long enough for both the article and the related cut."""
        rng = self.rng
        sentences = [s for s in rng.sample(SENTENCES, 4) if '"' not in s or rng.random() < QUOTED_PHRASE_SHARE]
        return " ".join(self.fill(sentence, theme, moment) for sentence in sentences[: rng.randint(3, 4)])

    def cut_excerpt(self, text: str) -> str:
        """Most real article excerpts are cut with " ..." (median 198 characters); the rest end on a sentence."""
        rng = self.rng
        if rng.random() < EXCERPT_CUT_SHARE:
            return cut(text, rng.randint(120, 350))
        end = text.find(". ", rng.randint(40, 200))
        return text if end < 0 else text[: end + 1]

    # -- URLs

    def web_url(self, provider: Provider, slug: str, moment: dt.datetime) -> str:
        """A unique URL (a running id is part of every path) in the provider's style."""
        rng = self.rng
        self.next_id += 1
        host = ("www." if rng.random() < WWW_SHARE else "") + provider.domain
        path = URL_PATHS[provider.style].format(
            y=moment.year, m=f"{moment.month:02}", d=f"{moment.day:02}", slug=slug[:90].strip("-"),
            id=1_000_000 + self.next_id * 17 + rng.randrange(17), section=SECTIONS[provider.style % len(SECTIONS)],
        )
        return f"https://{host}{path}"

    @staticmethod
    def amp_url(url: str, provider: Provider) -> str:
        """The real AMP forms: `.../amp/`, `...?amp`, an `amp.` host, an `/amp` path prefix."""
        style = provider.style % 4
        if style == 0:
            return url + "amp/" if url.endswith("/") else url + "/amp"
        if style == 1:
            return url + "?amp"
        scheme, _, rest = url.partition("://")
        host, _, path = rest.partition("/")
        if style == 2:
            return f"{scheme}://amp.{host.removeprefix('www.')}/{path}"
        return f"{scheme}://{host}/amp/{path}"

    @staticmethod
    def cdn_amp_url(amp: str) -> str:
        """Google's AMP cache address: host with `-` doubled and `.` as `-`, then /c/s/ and the AMP URL."""
        rest = amp.partition("://")[2]
        host = rest.partition("/")[0]
        return f"https://{host.replace('-', '--').replace('.', '-')}.cdn.ampproject.org/c/s/{rest}"

    def image_url(self, provider: Provider, slug: str, moment: dt.datetime) -> str:
        rng = self.rng
        return IMAGE_PATHS[provider.style % len(IMAGE_PATHS)].format(
            domain=provider.domain, hex=f"{rng.getrandbits(64):016x}", y=moment.year, m=f"{moment.month:02}",
            slug=slug[:40].strip("-"), n=rng.randrange(100_000, 999_999),
        )

    def url_variant(self, url: str) -> str:
        """The same article under another spelling of its URL: a utm_ campaign or a trailing slash."""
        if url.endswith("/"):
            return url.rstrip("/") if self.rng.random() < 0.5 else f"{url}?{UTM}"
        return url + ("&" if "?" in url else "?") + UTM if self.rng.random() < 0.7 else url + "/"

    # -- rendering

    @staticmethod
    def related_yaml(item: Item) -> str:
        """The item as a `related` entry, rendered once and shared by every file of its story."""
        lines = [
            f"  - title: {quoted(item.title)}",
            f"    excerpt: {quoted(item.related_excerpt)}",
            f"    publishedDateTime: {timestamp(item.published_at)}",
            f"    webUrl: {quoted(item.url)}",
        ]
        if item.amp:
            lines += [f"    ampWebUrl: {quoted(item.amp)}", f"    cdnAmpWebUrl: {quoted(item.cdn_amp)}"]
        lines += ["    type: article", "    provider:", f"      name: {plain(item.provider.name)}",
                  f"      domain: {item.provider.domain}", f"    quality: {item.quality}"]
        if item.image:
            url, width, height = item.image
            lines += ["    images:", f"      - url: {quoted(url)}",
                      f"        width: {width}", f"        height: {height}"]
            if item.image_cached:
                lines.append("        isCached: true")
        return "\n".join(lines)

    def news_file(
        self, item: Item, related: list[Item], topics: list[str], url: str, broken: str | None
    ) -> GeneratedFile:
        """One news file; `url` differs from the item's for a duplicate, `broken` says how to break it."""
        expect = broken or ("article" if url == item.url else "duplicate")
        site = self.rng.choices(range(len(SITE_WEIGHTS)), SITE_WEIGHTS)[0]
        text = self.front_matter(item, related, topics, url, site, broken == "bad_value")
        if broken == "no_front_matter":
            text = text.removeprefix("---\n")
        elif broken == "unterminated_front_matter":
            text = text.removesuffix("---\n\n")
        self.written += 1
        return GeneratedFile(self.path(item, site), text.encode(), expect)

    def front_matter(
        self, item: Item, related: list[Item], topics: list[str], url: str, site: int, bad_date: bool
    ) -> str:
        """The file's text, in the real field order; per-file choices (the field mix) are drawn here."""
        rng = self.rng
        q = plain if rng.random() < UNQUOTED_URLS else quoted
        when = item.published_at
        date = f"{MONTHS[when.month - 1]} {when.day}, {when.year}" if bad_date else timestamp(when)
        lines = ["---", "category: news", f"title: {quoted(item.title)}", f"excerpt: {quoted(item.excerpt)}",
                 f"publishedDateTime: {date}"]
        if rng.random() < ORIGINAL_URL_SHARE:
            original = url
            if rng.random() < ORIGINAL_URL_ELSEWHERE:  # another outlet's copy of the story
                original = self.web_url(self.provider([]), slugify(item.title), when)
            lines.append(f"originalUrl: {q(original)}")
        lines.append(f"webUrl: {q(url)}")
        if item.amp and rng.random() < AMP_SHARE["article"] / AMP_SHARE["related"]:
            lines += [f"ampWebUrl: {q(item.amp)}", f"cdnAmpWebUrl: {q(item.cdn_amp)}"]
        lines.append("type: article")
        scored = rng.random() < SCORED_SHARE
        if scored:
            lines += [f"quality: {item.quality}", f"heat: {self.heat(item.quality)}",
                      f"published: {'true' if rng.random() < PUBLISHED_TRUE else 'false'}"]
        lines += ["", *self.provider_lines(item.provider, site)]
        lines += ["", "topics:", *(f"  - {topic}" for topic in self.file_topics(topics))]
        if item.image and rng.random() < IMAGE_SHARE["article"] / IMAGE_SHARE["related"]:
            lines += ["", *self.image_lines(item, q)]
        if scored and related:
            lines += ["", "related:", *(other.related_yaml for other in related)]
        lines += ["", f"secured: {quoted(self.secured())}", "---", "", ""]
        return "\n".join(lines)

    def heat(self, quality: int) -> int:
        draw = self.rng.random()
        if draw < HEAT_MINUS_ONE:
            return -1
        if draw < HEAT_MINUS_ONE + HEAT_IS_QUALITY:
            return quality
        return round(self.rng.lognormvariate(0, QUALITY_SIGMA) * QUALITY_MEDIAN * 1.5)

    def provider_lines(self, provider: Provider, site: int) -> list[str]:
        """The provider mapping; some carry the site's logo for it, a few as a site-relative URL."""
        rng = self.rng
        lines = ["provider:", f"  name: {plain(provider.name)}", f"  domain: {provider.domain}"]
        if rng.random() < LOGO_SHARE:
            base = "" if rng.random() < LOGO_RELATIVE else site_base(site)
            logo = f"{base}/assets/images/organizations/{provider.domain}-50x50.jpg"
            lines += ["  images:", f"    - url: {quoted(logo)}", "      width: 50", "      height: 50"]
        return lines

    def file_topics(self, extra: list[str]) -> list[str]:
        """AI and the story's topics; AI first only as often as in the real files; rarely an unknown topic."""
        rng = self.rng
        names = list(extra)
        if rng.random() < OBSERVED_TOPIC_SHARE:  # in place of a third extra topic: never more than 4 in all
            names = names[:2] + [rng.choice(OBSERVED_TOPICS)]
        if not names or rng.random() < AI_FIRST:
            return ["AI", *names]
        names.insert(rng.randint(1, len(names)), "AI")
        return names

    def image_lines(self, item: Item, q) -> list[str]:
        url, width, height = item.image
        lines = ["images:", f"  - url: {q(url)}", f"    width: {width}", f"    height: {height}"]
        if self.rng.random() < IMAGE_CACHED["article"]:
            lines.append("    isCached: true")
        if self.rng.random() < IMAGE_TITLED:
            lines.append(f"    title: {quoted(item.title)}")
        return lines

    def secured(self) -> str:
        """An opaque blob shaped like the real one: base64 ciphertext, `;`, base64 16-byte IV."""
        blocks = self.rng.randint(*SECURED_BLOCKS)
        return (base64.b64encode(self.rng.randbytes(16 * blocks)).decode() + ";"
                + base64.b64encode(self.rng.randbytes(16)).decode())

    # -- paths

    def path(self, item: Item, site: int) -> str:
        """`site-<k>/[_archive/]_news/YYYY-MM-DD-<slug>.md`, made unique with `-2`, `-3` where needed."""
        rng = self.rng
        folder = "_archive/_news" if rng.random() < ARCHIVE_SHARE else "_news"
        day = item.published_at.date() + dt.timedelta(days=1 if rng.random() < FILENAME_NEXT_DAY else 0)
        stem = f"site-{site}/{folder}/{day.isoformat()}-{slugify(item.title)[:120].strip('-')}"
        taken = self.paths.setdefault(day, set())
        path, n = f"{stem}.md", 1
        while path in taken:
            n += 1
            path = f"{stem}-{n}.md"
        taken.add(path)
        return path

    def forget_paths_before(self, day: dt.date) -> None:
        """Stories start in date order and files are never dated before their story: older days are done."""
        for old in [d for d in self.paths if d < day]:
            del self.paths[old]
