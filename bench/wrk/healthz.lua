-- The HTTP ceiling: the same server answering without touching SQLite.
wrk.method = "GET"
wrk.path = "/healthz"
