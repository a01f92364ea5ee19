"""The demo company's records as plain tuples (read by demo.py): accounts, people, leads, deals, work items."""

# name, industry, city, country, domain, status
ACCOUNTS = (
    ("Analytical Engines Ltd", "COMPUTER", "London", "GB", "analytical-engines.co.uk", "open"),
    ("Babbage & Co", "FINANCE", "Cambridge", "GB", "babbage.co", "open"),
    ("Hopper Systems Inc", "SOFTWARE", "Arlington", "US", "hoppersystems.com", "open"),
    ("Curie Biolabs", "BIOTECHNOLOGY", "Paris", "FR", "curie-biolabs.fr", "open"),
    ("Turing Logistics GmbH", "TRANSPORTATION", "Hamburg", "DE", "turing-logistics.de", "open"),
    ("Noether Insurance AG", "INSURANCE", "Zurich", "CH", "noether-insurance.ch", "open"),
    ("Lamarr Wireless", "TELECOMMUNICATIONS", "Los Angeles", "US", "lamarrwireless.com", "open"),
    ("Franklin Health Partners", "HEALTHCARE", "Boston", "US", "franklinhealth.org", "close"),
)

# first name, last name, title, account index (None: no account), mobile
CONTACTS = (
    ("Ada", "Lovelace", "CTO", 0, "+44 20 7946 0101"),
    ("Charles", "Babbage", "Founder", 0, "+44 20 7946 0102"),
    ("Mary", "Somerville", "Head of Research", 0, "+44 20 7946 0103"),
    ("Augustus", "De Morgan", "CFO", 1, "+44 1223 496 0201"),
    ("George", "Boole", "Financial Controller", 1, "+44 1223 496 0202"),
    ("Grace", "Hopper", "VP Engineering", 2, "+1 703 555 0301"),
    ("Jean", "Sammet", "Product Lead", 2, "+1 703 555 0302"),
    ("Margaret", "Hamilton", "Director of Software", 2, "+1 703 555 0303"),
    ("John", "von Neumann", "Principal Architect", 2, "+1 703 555 0304"),
    ("Marie", "Curie", "CEO", 3, "+33 1 55 55 0401"),
    ("Pierre", "Curie", "Lab Director", 3, "+33 1 55 55 0402"),
    ("Irene", "Joliot", "Head of Procurement", 3, "+33 1 55 55 0403"),
    ("Alan", "Turing", "Head of Operations", 4, "+49 40 5555 0501"),
    ("Joan", "Clarke", "Data Analyst", 4, "+49 40 5555 0502"),
    ("Gordon", "Welchman", "IT Manager", 4, "+49 40 5555 0503"),
    ("Emmy", "Noether", "Chief Actuary", 5, "+41 44 555 0601"),
    ("Olga", "Taussky", "Risk Manager", 5, "+41 44 555 0602"),
    ("Hedy", "Lamarr", "Founder", 6, "+1 213 555 0701"),
    ("George", "Antheil", "CTO", 6, "+1 213 555 0702"),
    ("Claude", "Shannon", "Principal Engineer", 6, "+1 213 555 0703"),
    ("Rosalind", "Franklin", "Medical Director", 7, "+1 617 555 0801"),
    ("Maurice", "Wilkins", "Operations Manager", 7, "+1 617 555 0802"),
    ("Katherine", "Johnson", "Independent Consultant", None, "+1 757 555 0901"),
    ("Dorothy", "Vaughan", "Independent Consultant", None, "+1 757 555 0902"),
    ("Annie", "Easley", "Freelance Developer", None, "+1 216 555 0903"),
)

# title, first name, last name, company, status, source, amount, probability
LEADS = (
    ("Fleet tracking pilot", "Nikola", "Tesla", "Tesla Coils Ltd", "assigned", "partner", "12000.00", 30),
    ("Data warehouse migration", "Barbara", "Liskov", "Liskov Data", "in process", "email", "45000.00", 50),
    ("Website redesign inquiry", "Tim", "Berners-Lee", "Web Foundry", "assigned", "call", None, None),
    ("Analytics trial signup", "Edsger", "Dijkstra", "Shortest Path BV", "recycled", "campaign", "3000.00", 10),
    ("Security audit", "Whitfield", "Diffie", "Keyspace Security", "converted", "existing customer", "18000.00", 90),
    ("Reseller partnership", "Radia", "Perlman", "Spanning Networks", "in process", "partner", "25000.00", 40),
    ("Conference booth lead", "Frances", "Allen", "Optimizing Compilers Co", "assigned", "public relations", None, 20),
    ("Quote request: 50 seats", "Donald", "Knuth", "TeX Publishing", "closed", "email", "9500.00", 0),
    ("Webinar follow-up", "Shafi", "Goldwasser", "Zero Knowledge Labs", "assigned", "campaign", None, 15),
    ("Inbound chat: API access", "Leslie", "Lamport", "Paxos Systems", "in process", "other", "7200.00", 35),
)

# kind, natural key, probability as the django-crm dialect shows it while the stored value is its whole part: one
# record of each kind whose probability reads as a decimal string, as some Django-CRM versions serialise it.
ODD_PROBABILITIES = (
    ("leads", "Analytics trial signup", "10.5"),
    ("opportunities", "Lamarr Wireless – Co-marketing programme", "25.5"),
)

# name, account index, amount, currency, (pipeline, stage), contact indexes, probability, closed_on
DEALS = (
    ("Platform expansion", 0, "48000.00", "GBP", ("default", "Prospecting"), (0, 1), 20, None),
    ("Network analytics", 6, "22000.00", "USD", ("default", "Prospecting"), (18,), 15, None),
    ("Team licences", 2, "36000.00", "USD", ("default", "Qualification"), (5, 6), 35, None),
    ("Risk dashboards", 5, "54000.00", "CHF", ("default", "Qualification"), (15, 16), 30, None),
    ("Lab data pipeline", 3, "61000.00", "EUR", ("default", "Proposal"), (9, 11), 55, None),
    ("Route optimisation", 4, "75000.00", "EUR", ("default", "Proposal"), (12, 14), 60, None),
    ("Reporting suite", 1, "29500.00", "GBP", ("default", "Negotiation"), (3,), 80, None),
    ("Starter plan", 0, "12000.00", "GBP", ("default", "Won"), (0,), 100, "2025-05-02"),
    ("Onboarding services", 2, "8500.00", "USD", ("default", "Won"), (7,), 100, "2025-05-09"),
    ("Compliance module", 7, "19000.00", "USD", ("default", "Won"), (20,), 100, "2025-04-18"),
    ("Warehouse sensors", 4, "41000.00", "EUR", ("default", "Lost"), (13,), 0, "2025-05-14"),
    ("Audit archive", 1, "15000.00", "GBP", ("default", "Lost"), (4,), 0, "2025-04-25"),
    ("Co-marketing programme", 6, "10000.00", "USD", ("Partnerships", "Contacted"), (17,), 25, None),
    ("Referral agreement", 3, "5000.00", "EUR", ("Partnerships", "Prospecting"), (10,), 10, None),
)

# Dates of tasks and invoices are offsets in days from the seeding day (the UTC date when the org is seeded, or
# the `today` given to create_app), so the demo always has work due: tasks overdue (-3), due today (0), due this
# week (+1…+6), later (+10, +21) and completed in the past (-20, -9); invoices paid, unpaid overdue (due -10) and
# unpaid due later (+25). Deal and case dates stay absolute.

# title, status, priority, due offset, account index (None: none), contact indexes, parent: (kind, index)
TASKS = (
    ("Send platform expansion proposal", "New", "High", 2, 0, (0,), ("deal", 0)),
    ("Book discovery call with Hopper Systems", "In Progress", "Medium", 0, 2, (5,), ("deal", 2)),
    ("Prepare risk dashboard demo", "New", "High", 6, 5, (15, 16), ("deal", 3)),
    ("Review lab pipeline requirements", "In Progress", "Medium", 4, 3, (9,), ("deal", 4)),
    ("Negotiate reporting suite discount", "New", "High", -3, 1, (3,), ("deal", 6)),
    ("Kick-off onboarding workshop", "Completed", "Medium", -20, 2, (7,), ("deal", 8)),
    ("Post-mortem on warehouse sensors", "Completed", "Low", -9, 4, (13,), ("deal", 10)),
    ("Draft co-marketing plan", "New", "Low", 21, 6, (17, 19), ("deal", 12)),
)
# Tasks whose parent is a lead or a case, seeded after the invoices (the records above keep their timestamps).
FOLLOW_UPS = (
    ("Call Barbara Liskov about the migration", "New", "High", 3, None, (), ("lead", 1)),
    ("Reproduce export timeout", "In Progress", "High", 1, 0, (0, 2), ("case", 0)),
    ("Qualify the fleet tracking pilot", "New", "Low", 10, None, (), ("lead", 0)),
)

# name, status, priority, type, account index, contact indexes, closed on
CASES = (
    ("Dashboard export times out", "Assigned", "High", "Problem", 0, (0, 2), None),
    ("How to add SSO users?", "Closed", "Normal", "Question", 2, (6,), "2025-05-22"),
    ("Sensor feed outage", "Pending", "Urgent", "Incident", 4, (14,), None),
    ("Invoice shows wrong VAT rate", "New", "Normal", "Question", 1, (4,), None),
    ("Duplicate patient records after import", "Rejected", "Low", "Problem", 7, (21,), "2025-05-03"),
)

# title, status, account index, contact index, currency, amount, issue offset, due offset (days; None: no date)
INVOICES = (
    ("Starter plan – annual", "Paid", 0, 0, "GBP", "12000.00", -60, -30),
    ("Onboarding services", "Paid", 2, 7, "USD", "8500.00", -45, -15),
    ("Compliance module – first instalment", "Sent", 7, 20, "USD", "9500.00", -40, -10),
    ("Compliance module – second instalment", "Draft", 7, 20, "USD", "9500.00", None, None),
    ("Consulting hours – May", "Pending", 1, 3, "GBP", "2400.00", -5, 25),
    ("Pilot licence (cancelled)", "Cancelled", 4, 12, "EUR", "4100.00", -70, -40),
)
