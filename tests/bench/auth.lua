-- wrk script: every request carries partd's bearer token (the same header
-- goes to nginx, so that both servers receive the same request bytes).
wrk.headers["Authorization"] = "Bearer " .. (os.getenv("PARTD_BENCH_TOKEN") or "")
