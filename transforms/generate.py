"""A synthetic news corpus in the Smartable format, the same bytes for the same (count, seed).

Pure (no file I/O, no clock, no global random state): `generate_corpus` yields (relative POSIX
path, bytes) and `pipelines/generate.py` writes them. It exists for benchmarks at 20,000 and
100,000 files, so it has to look like the real thing to the pipeline: every distribution below
was measured on the real sample corpus (`../shared/corpus`: 51 news files, 65 related items, 47
taxonomy files) and the measured figure is written beside it ("real a/b").

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
import itertools
import random
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

# ---- Distributions. "real a/b": measured on ../shared/corpus (51 news files, 65 related items).
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
BROKEN_KINDS = ("no_front_matter", "unterminated_front_matter", "bad_value")  # taken in turn

# Image sizes seen in the real corpus (a sample of the 87 measured).
IMAGE_SIZES = ((1200, 630), (1200, 628), (1200, 600), (800, 450), (1024, 576), (640, 480), (600, 338),
               (2048, 1152), (875, 492), (700, 440), (1440, 880), (1100, 619), (620, 357), (1280, 720),
               (400, 225), (2000, 1325), (756, 567), (960, 500), (300, 300), (3999, 2666))

# Real providers (domain=name) by real mentions, most first; they take the top Zipf ranks.
REAL_PROVIDERS = tuple(pair.split("=") for pair in """digitaltrends.com=Digital Trends;venturebeat.com=VentureBeat
cnbc.com=CNBC;mashable.com=Mashable;qz.com=Quartz;thehill.com=The Hill;gizmodo.com=Gizmodo;techshout.com=TechShout
thetimes.co.uk=The Times;gizmodo.com.au=Gizmodo Australia;siouxcityjournal.com=Sioux City Journal
theglobeandmail.com=The Globe and Mail;bbc.com=BBC;prnewswire.com=PR Newswire;businessinsider.com=Business Insider
eurekalert.org=EurekAlert!;cnn.com=CNN;khaleejtimes.com=Khaleej Times;sciencedaily.com=Science Daily
thestreet.com=TheStreet.com;sfgate.com=SFGate;theatlantic.com=The Atlantic;laweekly.com=Laweekly
theguardian.com=The Guardian;nasdaq.com=Nasdaq;techradar.com=TechRadar;infoq.com=InfoQ;nextgov.com=Nextgov
wfmz.com=WFMZ-TV;yourstory.com=Your Story;benzinga.com=Benzinga.com;indiaeducationdiary.in=India Education Diary
variety.com=Variety;arstechnica.com=Ars Technica;ciol.com=CIOL;thenextweb.com=The Next Web;stockhouse.com=Stockhouse
beckershospitalreview.com=Becker's Hospital Review;patentlyapple.com=Patently Apple;foxbusiness.com=Fox Business
wgbh.org=WGBH;cmswire.com=CMS Wire;reseller.co.nz=Reseller News;bloombergquint.com=BloombergQuint
hackaday.com=Hackaday;marketplace.org=Marketplace;businesscomputingworld.co.uk=BCW
business2community.com=Business 2 Community;bloomberg.com=Bloomberg;acs.org=C&EN;geek.com=Geek.com
roboticsandautomationnews.com=Robotics & Automation News;medicalxpress.com=Medical Xpress;oaoa.com=Odessa American
entrepreneur.com=Entrepreneur;autoremarketing.com=Auto Remarketing;knowridge.com=Knowridge;miragenews.com=Mirage News
controleng.com=Control Engineering;cxotoday.com=CXO Today;businesswire.com=Business Wire;lightreading.com=Light Reading
newindianexpress.com=The New Indian Express;republicworld.com=RepublicWorld;fastcompany.com=Fast Company
foxnews.com=Fox News;gamasutra.com=Gamasutra;cnet.com=CNET;wired.com=Wired;reuters.com=Reuters
buzzfeednews.com=BuzzFeed News;wsj.com=Wall Street Journal;ft.com=The Financial Times;bbc.co.uk=BBC
deadline.com=Deadline.com;npr.org=NPR""".replace("\n", ";").split(";"))


class Topic(NamedTuple):
    number: str  # the file name's prefix, as in the real `_data/topics/08-ai-in-finance.yaml`
    id: str
    name: str
    parent: str | None
    keywords: tuple[str, ...]
    weight: float  # real mentions besides AI (62 in all); 0.5 for topics the sample never used
    things: tuple[str, ...]  # what its news is about, for titles and excerpts
    companies: tuple[str, ...] = ()


def _t(number, id, name, parent, keywords, weight, things, companies=""):
    return Topic(number, id, name, parent, tuple(keywords.split("|")), weight, tuple(things.split("|")),
                 tuple(companies.split("|")) if companies else ())


# The taxonomy, modelled on SmartableAI's 21 topics (ids, names, parents and file numbers as there).
TOPICS = (
    _t("00", "ai", "AI", None, "artificial intelligence|ai", 0,
       "AI assistant|AI platform|AI strategy|automation software|AI research lab|AI model"),
    _t("01", "machine-learning", "Machine Learning", "AI", "machine learning|ml|deep learning|neural network", 7,
       "machine learning model|deep learning framework|neural network|AutoML tool|reinforcement learning system"),
    _t("02", "computer-vision", "Computer Vision", "AI", "computer vision|facial recognition|object detection", 8,
       "facial recognition system|image recognition tool|object detection model|smart camera|license plate reader"),
    _t("03", "natural-language-processing", "Natural Language Processing", "AI",
       "natural language processing|nlp|speech recognition|machine translation", 2,
       "language model|speech recognition engine|chatbot|translation system|voice assistant|text generator"),
    _t("04", "ai-ethics", "AI Ethics", "AI", "ethical|ethics|bias", 1,
       "AI ethics board|bias audit|facial recognition moratorium|algorithmic transparency rule|responsible AI policy"),
    _t("05", "ai-hardware", "AI Hardware", "AI", "chip|gpu|accelerator", 0.5,
       "AI chip|inference accelerator|GPU cluster|neuromorphic processor|edge AI module",
       "Nvidia|Intel|AMD|Qualcomm|Graphcore|Arm"),
    _t("06", "ai-in-autos", "AI in Autos", "AI", "self-driving|autonomous vehicle|driverless", 6,
       "self-driving car|autonomous truck|robotaxi service|driver-assistance system|lidar sensor",
       "Tesla|Waymo|Cruise|Nissan|Toyota|Uber|Baidu"),
    _t("07", "ai-in-healthcare", "AI in Healthcare", "AI", "healthcare|medical|hospital|diagnosis", 2,
       "cancer detection tool|diagnostic algorithm|drug discovery platform|medical imaging system|triage chatbot",
       "Philips|Siemens Healthineers|GE Healthcare|Paige"),
    _t("08", "ai-in-finance", "AI in Finance", "AI", "fintech|banking|trading", 0.5,
       "fraud detection system|trading algorithm|credit scoring model|robo-adviser",
       "JPMorgan|Goldman Sachs|Société Générale|Mastercard"),
    _t("08", "ai-in-marketing", "AI in Marketing", "AI", "marketing|advertising", 0.5,
       "ad targeting engine|personalization engine|customer analytics platform"),
    _t("08", "ai-in-sales", "AI in Sales", "AI", "sales|crm", 0.5,
       "sales forecasting tool|CRM assistant|lead scoring model"),
    _t("09", "ai-in-education", "AI in Education", "AI", "education|edtech|learning", 0.5,
       "AI tutor|online AI course|automated grading system"),
    _t("09", "ai-in-robotics", "AI in Robotics", "AI", "robotics|robot|drone", 3,
       "warehouse robot|robotic arm|delivery robot|humanoid robot|surgical robot", "Boston Dynamics|ABB|Fanuc"),
    _t("09", "ai-in-security", "AI in Security", "AI", "security|cybersecurity|threat detection", 0.5,
       "threat detection platform|malware classifier|intrusion detection system", "Darktrace|CrowdStrike"),
    _t("10", "aws-ai", "AWS AI", "AI", "amazon|aws|alexa|sagemaker|rekognition", 9,
       "Amazon Rekognition|Amazon SageMaker|AWS DeepComposer|Alexa skill|Amazon Augmented AI", "Amazon|AWS"),
    _t("11", "microsoft-ai", "Microsoft AI", "AI", "microsoft|azure|cortana", 2,
       "Azure Cognitive Services|Azure Machine Learning|Cortana|AI for Good grant", "Microsoft"),
    _t("12", "google-ai", "Google AI", "AI", "google|deepmind|alphabet", 3,
       "Google Translate model|Cloud AI Platform|Google Assistant|TPU pod", "Google|Alphabet|DeepMind"),
    _t("13", "facebook-ai", "Facebook AI", "AI", "facebook|pytorch", 0.5,
       "PyTorch library|content moderation AI|FAIR research model", "Facebook"),
    _t("14", "ibm-ai", "IBM AI", "AI", "ibm|watson", 3,
       "Watson Assistant|Watson Speech to Text|Watson Health tool", "IBM"),
    _t("15", "tensorflow", "TensorFlow", "Google AI", "tensorflow|keras", 1,
       "TensorFlow Lite|TensorFlow release|Keras API", "Google"),
    _t("20", "math-for-ai", "Math for AI", "AI", "math|statistics|linear algebra", 0.5,
       "linear algebra course|statistics primer|optimization method"),
)
# Topics no taxonomy file defines, for the OBSERVED_TOPIC_SHARE of files.
OBSERVED_TOPICS = ("Quantum Computing", "AI in Agriculture", "Edge AI", "Generative Art", "AI in Retail")

# ---- Word lists for titles and excerpts (ASCII ' and " here; `typeset` makes them curly for some items).
COMPANIES = ("Amazon", "Google", "Microsoft", "IBM", "Nvidia", "Intel", "Apple", "Facebook", "OpenAI", "Baidu",
             "Alibaba", "Tencent", "Samsung", "Salesforce", "Oracle", "Huawei", "SenseTime",
             "Siemens", "Bosch", "Nestlé", "Accenture", "Uber", "Spotify", "Adobe", "Zillow")
STARTUP_PARTS = (("Neur", "Cogn", "Vis", "Data", "Deep", "Quant", "Syn", "Robo", "Medi", "Lum", "Ver", "Cort",
                  "Sens", "Intelli", "Pred", "Aur", "Kin", "Nov", "Zeph", "Clar"),
                 ("ix", "io", "ify", "ora", "ica", "AI", " Labs", "mind", "sense", "logic", "ware", "ity", "ly",
                  " Robotics", "path"))
FIELDS = ("healthcare", "retail", "banking", "manufacturing", "logistics", "agriculture", "law enforcement",
          "customer service", "schools", "insurance", "cybersecurity", "newsrooms", "energy",
          "city traffic", "call centers", "hospitals", "supply chains", "recruiting")
CITIES = ("London", "Seattle", "San Francisco", "Beijing", "Shanghai", "Moscow", "Tokyo", "Toronto", "Montreal",
          "Zurich", "Sao Paulo", "Bengaluru", "Berlin", "Paris", "Singapore", "Tel Aviv", "Dubai",
          "Boston", "New York", "Austin", "Orlando", "Seoul", "Stockholm", "Krakow", "Chicago", "Denver",
          "Atlanta", "Sydney", "Mumbai", "Madrid")
INSTITUTIONS = ("police", "hospitals", "schools", "banks", "city officials", "airports", "retailers", "insurers",
                "courts", "universities")
FIRST_NAMES = ("Linda", "Melvin", "Arvind", "Satya", "Fei-Fei", "José", "Zoë", "Francis", "James", "Sean",
               "Chloe", "Anna", "Priya", "Wei", "Olga", "Kwame", "Hiroshi", "Ingrid", "Mateo",
               "Aisha", "Lukas", "Rene", "Daniel", "Sarah", "Michael", "Emily", "David", "Laura")
LAST_NAMES = ("Smith", "Johnson", "Krishna", "Li", "Garcia", "Müller", "Dubois", "Nakamura", "Okafor", "Kowalski",
              "Haskins", "Chen", "Patel", "Rossi", "Andersson", "Nunez", "O'Brien", "Nguyen",
              "Brown", "Kim", "Schmidt", "Silva", "Cohen", "Martin", "Taylor", "Wilson", "Lopez",
              "Singh")
ROLES = ("chief executive", "head of research", "senior software engineer", "professor of computer science",
         "chief technology officer", "vice president of AI", "director of product", "chief data scientist")
UNIVERSITIES = ("MIT", "Stanford University", "Carnegie Mellon University", "the University of Toronto",
                "ETH Zürich", "Tsinghua University", "Oxford University",
                "the Université de Montréal", "UC Berkeley", "Imperial College London", "KAIST",
                "the Technical University of Munich")
FIRMS = ("Gartner", "IDC", "Forrester", "McKinsey", "PwC", "Deloitte", "CB Insights", "Juniper Research")
LAUNCHES = ("launches", "unveils", "introduces", "rolls out", "debuts", "expands", "tests", "pilots", "bets on",
            "doubles down on")
SUSPENDS = ("suspends", "pauses", "scraps", "delays", "limits")
ACQUIRES = ("acquires", "buys", "snaps up", "invests in")
ADJECTIVES = ("quiet", "expensive", "global", "uneasy", "high-stakes", "long", "surprising", "growing", "messy",
              "crowded")
CONCERNS = ("privacy", "bias", "surveillance", "job losses", "transparency", "safety", "accountability", "accuracy")
SHORT_QUOTES = ("a game changer", "not ready for prime time", "the end of privacy", "just the beginning",
                "overhyped", "a turning point", "too late to stop",
                "a solution in search of a problem", "the future of {field}")
LONG_QUOTES = ("We are still at the very beginning of what this technology can do",
               "Nobody should be surprised that these systems make mistakes",
               "This isn't about replacing people, it's about helping them",
               "We've made significant progress since our initial launch",
               "The technology is moving faster than the rules that govern it",
               "Customers told us they wanted something that just works")
RESULTS = ("cut the time needed to review cases by {pct} percent",
           "matched the accuracy of senior experts on {n} test cases",
           "misidentified darker-skinned faces far more often than lighter-skinned ones",
           "can run on a smartphone without a network connection",
           "needs a fraction of the data older systems required",
           "spotted problems that human reviewers had missed",
           "lowered costs by {pct}% in a six-month pilot",
           "still struggles with rare cases and poor lighting")
CONSEQUENCES = ("could reshape {field}", "drew praise from civil liberties groups", "puts pressure on rivals",
                "surprised analysts", "has worried privacy advocates",
                "was widely expected after months of criticism")
SHORT_RESULTS = ("spots problems earlier", "reads lips", "predicts traffic jams", "writes its own code",
                 "detects deepfakes", "cuts energy use by {pct}%",
                 "learns from a handful of examples")
TITLES = (
    "{co} {launches} {thing} for {field}",
    "{co} raises ${n} million for its {thing}",
    "How {co}'s {thing} could change {field}",
    "Why the {thing} isn't ready for {field} yet",
    "{co} and {co2} team up on {thing} for {field}",
    "{city} {institution} test {thing} amid {concern} concerns",
    "{co}'s {thing} outperforms human experts in {field}, study says",
    "Researchers at {univ} build a {thing} that {short_result}",
    "{co} announces general availability of {thing}",
    "Can a {thing} fix {field}?",
    "{co} CEO calls {thing} \"{short_quote}\"",
    "{co} {acquires} {co2} to boost its {thing}",
    "Inside {co}'s {adj} bet on {thing}",
    "{n_small} things to know about {co}'s {thing}",
    "{co} faces backlash over {thing} in {city}",
    "{co} {suspends} {thing} after {concern} complaints",
    "The {adj} race to build a better {thing} -- and who's winning",
    "{person} on the {thing}: \"{short_quote}\"",
)
SENTENCES = (
    "{co} said on {weekday} that it would {verb} its {thing}, a move that {consequence}.",
    "The {thing}, which {co} has been testing since {year}, {result}.",
    "Researchers at {univ} say their {thing} {result}.",
    "{person}, {role} at {co}, said the company expects the {thing} to reach {field} within {n_small} years.",
    "\"{long_quote},\" said {person}, {role} at {co}.",
    "Critics say the {thing} raises concerns about {concern} and {concern2}.",
    "The deal values {co2} at about ${n} million, according to people familiar with the matter.",
    "{city}-based {co2} said it had signed {n_small} new customers for its {thing} this quarter.",
    "Analysts at {firm} expect spending on AI in {field} to reach ${n_small} billion by {year2}.",
    "{institution_cap} in {city} began using the {thing} in {month} -- {person} said it {result}.",
    "The announcement comes {n_small} months after {co2} unveiled a rival {thing}.",
    "{co} did not respond to a request for comment.",
    "It's the latest sign that {field} is turning to artificial intelligence to cut costs.",
    "In a blog post, {co}'s {role} wrote that the {thing} \"{short_quote}\".",
    "Shares of {co} rose {n_small}% in early trading after the news.",
    "According to {firm}, {n_small} in 10 companies in {field} now use some form of AI.",
)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_SLOT = re.compile(r"\{(\w+)\}")
SLOT_WORDS = {  # a slot's value: one of these (the theme's own slots take precedence)
    "n": ("2", "5", "12", "20", "35", "50", "75", "100", "150", "250", "400"), "adj": ADJECTIVES, "launches": LAUNCHES,
    "suspends": SUSPENDS, "acquires": ACQUIRES, "verb": ("expand", "pause", "open up", "rebuild", "sell"),
    "univ": UNIVERSITIES, "institution": INSTITUTIONS, "concern2": CONCERNS, "role": ROLES, "firm": FIRMS,
    "result": RESULTS, "consequence": CONSEQUENCES, "short_result": SHORT_RESULTS, "short_quote": SHORT_QUOTES,
    "long_quote": LONG_QUOTES,
}
SLOT_DRAWS = {  # or drawn: (rng, the item's date) → text
    "n_small": lambda rng, when: str(rng.randint(2, 9)),
    "pct": lambda rng, when: str(rng.randint(2, 9) * 10),
    "institution_cap": lambda rng, when: rng.choice(INSTITUTIONS).capitalize(),
    "weekday": lambda rng, when: WEEKDAYS[when.weekday()],
    "month": lambda rng, when: MONTHS[when.month - 1],
    "year": lambda rng, when: str(when.year - rng.randint(1, 3)),
    "year2": lambda rng, when: str(when.year + rng.randint(2, 6)),
}

# ---- How URLs look (chosen per provider, so one provider keeps one style).
URL_PATHS = ("/{y}/{m}/{d}/{slug}-{id}/", "/news/{section}/{slug}-{id}", "/article/{slug}-{id}.html",
             "/{section}/{id}-{slug}", "/story/{slug}-{id}/", "/news-releases/{slug}-{id}.html",
             "/{y}/{m}/{d}/{section}/{slug}-{id}/index.html")
SECTIONS = ("technology", "business", "tech", "science", "news", "innovation", "ai", "health", "markets")
IMAGE_PATHS = ("https://cdn.{domain}/images/{hex}.jpg", "https://www.{domain}/wp-content/uploads/{y}/{m}/{hex}.jpg",
               "https://i.{domain}/{hex}?width=1200&format=jpeg",
               "https://media.{domain}/photos/{hex}/master/pass/{slug}.jpg", "https://images.{domain}/im-{n}/social")
UTM = "utm_source=feedburner&utm_medium=feed&utm_campaign=Feed"
SYNTHETIC_NAME_PARTS = (
    ("Daily", "Tech", "Silicon", "Future", "Global", "Digital", "Cyber", "Neural", "Data", "Metro", "Valley",
     "Coastal", "Northern", "Capital", "Open", "Smart"),
    ("Wire", "Times", "Post", "Insider", "Report", "Journal", "Beat", "Review", "Herald", "Gazette", "News",
     "Digest", "Today", "Weekly", "Chronicle", "Ledger", "Observer"),
)
TLDS = ((".com", 70), (".co.uk", 6), (".org", 6), (".net", 5), (".in", 4), (".com.au", 3), (".io", 3), (".news", 3))


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


def generate_corpus(count: int, seed: int = 0) -> Iterator[tuple[str, bytes]]:
    """`count` news files plus a topic taxonomy, as (relative POSIX path, bytes); same arguments, same bytes."""
    for file in generate_files(count, seed):
        yield file.path, file.data


def generate_files(count: int, seed: int = 0) -> Iterator[GeneratedFile]:
    """As `generate_corpus`, with what each file was built to be, so tests can check the pipeline's verdicts."""
    rng = random.Random(seed)
    yield from taxonomy_files(rng)
    yield from NewsWriter(rng, count).files()


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


def zipf_cumulative(n: int, exponent: float) -> list[float]:
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


def cut(text: str, limit: int) -> str:
    """Cut at a word boundary before `limit` characters and mark it " ...", as the real excerpts are."""
    if len(text) <= limit:
        return text
    end = text.rfind(" ", 0, limit - 4)
    return text[: end if end > 0 else limit - 4].rstrip(",;:—-– ") + " ..."
