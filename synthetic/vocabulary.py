"""What the synthetic corpus is written with: provider names and domains, the topic taxonomy,
words and the title and sentence templates they fill, and the URL styles of news sites.

Kept apart from the measured shares (`synthetic.calibration`) and from the writing
(`synthetic.corpus`), so that a new word or URL style is added here and nowhere else. What was
measured of one entry stays with it: a topic's weight, the real providers' order.
"""

from __future__ import annotations

from typing import NamedTuple

# ---- Providers.

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
# Synthetic providers after them: "<first> <second>" names (some "The ...", some a city) on weighted TLDs.
SYNTHETIC_NAME_PARTS = (
    ("Daily", "Tech", "Silicon", "Future", "Global", "Digital", "Cyber", "Neural", "Data", "Metro", "Valley",
     "Coastal", "Northern", "Capital", "Open", "Smart"),
    ("Wire", "Times", "Post", "Insider", "Report", "Journal", "Beat", "Review", "Herald", "Gazette", "News",
     "Digest", "Today", "Weekly", "Chronicle", "Ledger", "Observer"),
)
TLDS = ((".com", 70), (".co.uk", 6), (".org", 6), (".net", 5), (".in", 4), (".com.au", 3), (".io", 3), (".news", 3))

# ---- Topics.


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

# ---- Word lists for titles and excerpts (ASCII ' and " here; `corpus.typeset` makes them curly for some).
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
