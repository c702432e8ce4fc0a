"""The figures the synthetic corpus is drawn from, measured on the real sample corpus.

So that the pipeline meets at scale what it meets in real files: "real a/b" beside a figure is
what `../shared/corpus` (51 news files, 65 related items, 47 taxonomy files) shows; "chosen"
marks the few the sample cannot give (it holds no duplicate or broken file, for one). Below the
figures, the sampling weights they imply.
"""

from __future__ import annotations

import datetime as dt
import itertools

# ---- Shares and distributions.
SITE_WEIGHTS = (24, 13, 13)  # real files per source repository (SmartableAI, everyday-cc, insideout)
ARCHIVE_SHARE = 7 / 51  # real: files under _archive/_news
SCORED_SHARE = 22 / 51  # real: quality, heat and published (always all three, 22/22/22)
RELATED_SHARE_OF_SCORED = 13 / 22  # real: related lists only in scored files, 13 of 22 (13/51 overall)
HEAT_MINUS_ONE, HEAT_IS_QUALITY = 8 / 22, 9 / 22  # real heat: -1 8/22, = quality 9/22, another number 5/22
PUBLISHED_TRUE = 6 / 22  # real published: true 6/22, false 16/22
# An item has an AMP URL / an image at the related share; its own file shows them less often, as measured.
AMP_SHARE = {"article": 21 / 51, "related": 37 / 65}  # real: ampWebUrl (cdnAmpWebUrl always with it)
IMAGE_SHARE = {"article": 35 / 51, "related": 53 / 65}  # real: one image when any (never two)
IMAGE_CACHED = {"article": 16 / 35, "related": 14 / 53}  # real: isCached: true on those images
IMAGE_TITLED = 22 / 35  # real: title (the article's) on article images; never on related ones (0/53)
ORIGINAL_URL_SHARE, ORIGINAL_URL_ELSEWHERE = 17 / 51, 2 / 17  # real: originalUrl; differs from webUrl
LOGO_SHARE, LOGO_RELATIVE = 16 / 51, 2 / 16  # real: provider.images (article's only, 0/65 related); site-relative
UNQUOTED_URLS = 2 / 51  # real: files writing their URLs as plain scalars
WWW_SHARE = 80 / 116  # real: webUrls on a www. host
CURLY_SHARE = 0.42  # real: 24/51 files hold non-ASCII (’ 62, “ ” 9 each, — 8, ‘ 4, – 2, accents 1)
QUOTED_PHRASE_SHARE = 0.2  # of titles/excerpts; gives real's 6/51 files with an escaped \" and curly pairs
TITLE_CASE_SHARE = 17 / 51  # real: titles in Title Case ("Amazon Places One-Year Moratorium on ...")
EXCERPT_CUT_SHARE = 30 / 51  # real: article excerpts cut with " ..." (lengths 49-349, median 198)
RELATED_EXCERPT_MAX = 350  # real: 40/65 related excerpts cut at 335-350 characters (median 340)
MIDNIGHT_SHARE = 7 / 51  # real: publishedDateTime at T00:00:00Z (date-only sources)
HOUR_WEIGHTS = (4, 4, 14, 10, 8, 4)  # real: other times per 4-hour UTC block, 00-04 ... 20-24
WEEKEND_WEIGHT = 0.4  # real: 7/51 on weekends, 3.5 files per weekend day of the week against 8.8
START, SPAN_DAYS = dt.date(2019, 7, 1), 730  # real dates: 2019-12 .. 2021-03 (one outlier in 2014)
FILENAME_NEXT_DAY = 3 / 51  # real: the file name's date is the day after the UTC date
QUALITY_MEDIAN, QUALITY_SIGMA = 56, 0.5  # real (87 scores): median 56, p10 26, p90 91, max 166 → lognormal
EXTRA_TOPICS = {0: 10, 1: 35, 2: 6, 3: 0.5}  # real: topics besides AI per file (3 unseen, kept possible)
AI_FIRST = 8 / 41  # real: AI listed first, among files with several topics
OBSERVED_TOPIC_SHARE = 0.005  # real 0/51; chosen so that topics absent from the taxonomy occur
# Related-list lengths, file level: real 13 lists of 1 (x4), 2 (x3), 4 (x2), 11 (x3), 14 (x1); unseen bins get 0.5.
RELATED_LENGTHS = (((1, 1), 4), ((2, 2), 3), ((3, 5), 2), ((6, 10), 0.5), ((11, 15), 4), ((16, 20), 0.5))
FILED_SHARE = 0.35  # story items that are files too: ~40% of related rows join; real 6/65 (a slice of a feed)
LAG_MEAN_HOURS, LAG_MAX_HOURS = 30, 168  # real lags article → related: -169 h .. +149 h, median |lag| 22 h
SECURED_BLOCKS = (14, 25)  # real secured: 325-561 characters = base64 of 14-25 AES blocks ; base64 IV
SYNTHETIC_PROVIDERS, ZIPF_EXPONENT = 3000, 0.8  # real: 78 providers over 91 distinct items (86%), top 4.4%
DUPLICATE_SHARE, BROKEN_SHARE = 0.005, 0.002  # of news files; chosen (the sample has neither), rejects must exist
TAXONOMY_STRAY_END = 6 / 47  # real: taxonomy files ending in a stray "---" (and no final newline)
TAXONOMY_NO_NEWLINE = 0.05  # real 0/47 apart from those; kept so the reader's tolerance is exercised
TAXONOMY_SUBSET_SHARE = 0.5  # real: the other two repositories define 4/21 and 17/21 of SmartableAI's topics
TAXONOMY_COPY_SHARE = 5 / 13  # real: insideout repeats 5 of its 13 numbered topics unnumbered (`ai-ethics.yaml`)

# Image sizes seen in the real corpus (a sample of the 87 measured).
IMAGE_SIZES = ((1200, 630), (1200, 628), (1200, 600), (800, 450), (1024, 576), (640, 480), (600, 338),
               (2048, 1152), (875, 492), (700, 440), (1440, 880), (1100, 619), (620, 357), (1280, 720),
               (400, 225), (2000, 1325), (756, 567), (960, 500), (300, 300), (3999, 2666))


# ---- Sampling weights derived from the figures.


def zipf_cumulative(n: int, exponent: float) -> list[float]:
    """Cumulative weights of ranks 1..n under Zipf's law: few providers carry most items, as in the sample."""
    return list(itertools.accumulate(1 / rank**exponent for rank in range(1, n + 1)))


def day_cumulative() -> list[float]:
    """Cumulative weight of each day in the span: weekends count WEEKEND_WEIGHT, weekdays 1."""
    days = (START + dt.timedelta(days=i) for i in range(SPAN_DAYS))
    return list(itertools.accumulate(WEEKEND_WEIGHT if day.weekday() >= 5 else 1.0 for day in days))


def story_size_weights() -> tuple[list[int], list[float]]:
    """Items per story, weighted so that the *files* get the measured related-list lengths.

    A story of k items has 1 + FILED_SHARE·(k-1) files on average, each listing the k-1 others,
    so the story weight is the file-level share divided by that.
    """
    sizes, weights = [1], [1 - RELATED_SHARE_OF_SCORED]
    total = sum(weight for _, weight in RELATED_LENGTHS)
    for (low, high), weight in RELATED_LENGTHS:
        for length in range(low, high + 1):
            file_share = RELATED_SHARE_OF_SCORED * weight / total / (high - low + 1)
            sizes.append(length + 1)
            weights.append(file_share / (1 + FILED_SHARE * length))
    return sizes, weights
