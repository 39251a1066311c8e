#!/usr/bin/env python3
"""Writes the bad-input suite, tests/bad_input/*.case (read by tests/bad_input.rs).

Each case is a small file set, the command to run on it, the exit status it must give and the
words its error must contain (the file, the key path or flag, what was found or is allowed).
Run from the repository root: `python3 scripts/gen_bad_input.py`; it rewrites every case file.
The cases are committed; edit them here, not by hand.
"""
import os
import shutil

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "bad_input")

# A small valid scenario: a reserved pool spilling to an on-demand one, tags, an SLA, [sweep] and [plan].
BASE = '''[scenario]
name = "s"
horizon_hours = 2
seed = 7
replications = 1

[client]
max_attempts = 3
backoff_base_ms = 500
backoff_max_ms = 8000
jitter = "full"

[[class]]
name = "chat"
model = "gpt-4o"
route = ["ptu", "paygo"]
tags = { team = "support" }
sla = { ttft_ms = 1500, percentile = 99 }
arrivals = { mean_rps = 1.0, peak_hour = 14, peak_to_trough = 2.0 }
input_tokens = { dist = "lognormal", median = 800, p90 = 3000 }
output_tokens = { dist = "lognormal", median = 200, p90 = 600 }

[[deployment]]
name = "ptu"
platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 300, p99_ms = 800, prefill_ms_per_1k_input = 100 }
reserved = { units = 15, min_units = 15, unit_step = 5, tpm_per_unit = 2500, output_weight = 3, term = "monthly", max_wait_ms = 200, price_per_unit_hour = { monthly = 0.3562, hourly = 1.0 } }

[[deployment]]
name = "paygo"
platform = "azure-openai"
model = "gpt-4o"
latency = { median_ms = 450, p99_ms = 2500, prefill_ms_per_1k_input = 100 }
on_demand = { input_per_1m = 2.5, output_per_1m = 10.0, rpm = 600, tpm = 400000 }
'''

# A trace class on a custom deployment: {trace} is replaced by the class's trace keys.
TRACE_BASE = '''[scenario]
name = "t"
horizon_hours = 1

[[class]]
name = "replay"
model = "m"
route = ["d"]
arrivals = {{ {trace} }}

[[deployment]]
name = "d"
platform = "custom"
model = "m"
latency = {{ median_ms = 100, p99_ms = 300 }}
on_demand = {{ input_per_1m = 1, output_per_1m = 2 }}
'''

AZURE = '''TIMESTAMP,ContextTokens,GeneratedTokens
2024-03-04 09:00:00.2500000,520,60
2024-03-04 09:00:03.7500000,610,120
2024-03-04 09:00:04.0000000,930,75
'''
BURSTGPT = '''Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type
5,ChatGPT,472,18,490,Conversation log
45,ChatGPT,1087,136,1223,Conversation log
118,GPT-4,417,0,417,Conversation log
'''
MOONCAKE = '''{"timestamp": 0, "input_length": 1200, "output_length": 40, "hash_ids": [1]}
{"timestamp": 1000, "input_length": 700, "output_length": 30, "hash_ids": [2]}
{"timestamp": 2500, "input_length": 1200, "output_length": 80, "hash_ids": [3]}
'''
CSV = '''t,in,out
0,100,10
1.5,200,20
3,300,30
'''

PROFILE = '''[profile]
name = "p"
sla = "p99<=8s"

[simulation]
horizon_hours = 2
replications = 1
seed = 1

[[workload]]
name = "support"
model = "gpt-4o"
requests_per_day = 20000
peak_hour = 14
peak_to_trough = 2.0
input_tokens = { dist = "lognormal", median = 1500, p90 = 5000 }
output_tokens = { dist = "lognormal", median = 300, p90 = 900 }
tags = { team = "support-eng" }
'''

CATALOG = '''[platform]
id = "acme"
name = "Acme AI"
kind = "hyperscaler"
attribution = { value = "per project", source = "test fixture", as_of = "2026-11" }

[platform.attribution_model]
mechanism = { value = "projects", source = "test fixture", as_of = "2026-11" }
on_demand = { value = "credential", source = "test fixture", as_of = "2026-11" }
reserved = { value = "resource", source = "test fixture", as_of = "2026-11" }
dimensions = { value = ["team"], source = "test fixture", as_of = "2026-11" }
granularity_hours = { value = 24, source = "test fixture", as_of = "2026-11" }
latency_hours = { value = 24, source = "test fixture", as_of = "2026-11" }
default_view = { value = "per project and day", source = "test fixture", as_of = "2026-11" }

[platform.compliance]
hipaa_baa = { value = false, source = "test fixture", as_of = "2026-11" }
soc2 = { value = true, source = "test fixture", as_of = "2026-11" }
iso27001 = { value = true, source = "test fixture", as_of = "2026-11" }
data_residency = { value = ["us"], source = "test fixture", as_of = "2026-11" }

[[offering]]
id = "acme-1/standard"
model = "acme-1"
vendor_model_id = { value = "acme-1", source = "test fixture", as_of = "2026-11" }
kind = "on_demand"
regions = { value = ["us-east-1"], source = "test fixture", as_of = "2026-11" }
scope = { value = "region", source = "test fixture", as_of = "2026-11" }
context_tokens = { value = 128000, source = "test fixture", as_of = "2026-11" }

[offering.latency]
median_ms = { value = 500, source = "test fixture", as_of = "2026-11" }
p99_ms = { value = 1500, source = "test fixture", as_of = "2026-11" }
prefill_ms_per_1k_input = { value = 100, source = "test fixture", as_of = "2026-11" }

[offering.on_demand]
input_per_1m = { value = 1.00, source = "test fixture", as_of = "2026-11" }
output_per_1m = { value = 4.00, source = "test fixture", as_of = "2026-11" }
tpm = { value = 100000, source = "test fixture", as_of = "2026-11" }
rpm = { value = 1000, source = "test fixture", as_of = "2026-11" }

[offering.lifecycle]
status = { value = "available", source = "test fixture", as_of = "2026-11" }
'''

cases = {}


def case(name, args, expect, files, code=2, setup=(), remove=(), after=None, note="", truncate=()):
    assert name not in cases, name
    lines = []
    if note:
        lines.append(f"# {note}")
    lines.append(f"args: {args}")
    lines.append(f"code: {code}")
    for s in setup:
        lines.append(f"setup: {s}")
    for r in remove:
        lines.append(f"remove: {r}")
    for t in truncate:
        lines.append(f"truncate: {t}")
    for e in expect:
        lines.append(f"stderr: {e}")
    body = "\n".join(lines) + "\n"
    for path, text in files.items():
        body += f"-- {path} --\n{text}"
        if not text.endswith("\n"):
            body += "\n"
    for path, text in (after or {}).items():
        body += f"-- @{path} --\n{text}"
        if text and not text.endswith("\n"):
            body += "\n"
    cases[name] = body


def edit(old, new, base=BASE):
    assert base.count(old) == 1, f"{old!r} occurs {base.count(old)} times"
    return base.replace(old, new)


def scen(name, old, new, expect, cmd="run s.toml", **kw):
    """A scenario case: BASE with `old` replaced by `new`; the error names s.toml and `expect`."""
    case("scenario_" + name, cmd, ["s.toml"] + list(expect), {"s.toml": edit(old, new)}, **kw)


# ---------------------------------------------------------------------------------------------
# Scenario keys.
# ---------------------------------------------------------------------------------------------
H = "horizon_hours = 2"
scen("not_toml", H, "horizon_hours = = 2", ["s.toml:3:", "invalid"])
scen("unknown_top_table", "[client]", "[clients]\nx = 1\n[client]", ["unknown field `clients`"])
scen("unknown_scenario_key", H, H + "\nhorizn = 4", ["scenario", "unknown field `horizn`"])
scen("missing_horizon", H + "\n", "", ["scenario", "horizon_hours"])
scen("horizon_zero", H, "horizon_hours = 0", ["scenario.horizon_hours", "got 0"])
scen("horizon_fraction", H, "horizon_hours = 2.5", ["scenario.horizon_hours", "2.5"])
scen("horizon_too_long", H, "horizon_hours = 26353", ["scenario.horizon_hours", "26352"])
scen("horizon_negative", H, "horizon_hours = -3", ["scenario.horizon_hours", "-3"])
scen("horizon_nan", H, "horizon_hours = nan", ["scenario.horizon_hours", "NaN"])
scen("horizon_string", H, 'horizon_hours = "2"', ["scenario.horizon_hours", "string"])
scen("horizon_overflow", H, "horizon_hours = 18446744073709551616", ["scenario.horizon_hours"])
scen("seed_negative", "seed = 7", "seed = -1", ["scenario.seed", "-1"])
scen("seed_float", "seed = 7", "seed = 7.5", ["scenario.seed"])
scen("replications_zero", "replications = 1", "replications = 0", ["scenario.replications", "10000"])
scen("replications_too_many", "replications = 1", "replications = 10001", ["scenario.replications", "10000"])
scen("replication_hours_too_many", "replications = 1\n", "replications = 10000\n", ["scenario.replications", "100,000,000"], cmd="run s.toml --horizon-hours 26352")
scen("requests_too_many", "mean_rps = 1.0,", "mean_rps = 900000.0,", ["class[0].arrivals", "1,000,000,000,000"], cmd="run s.toml --horizon-hours 1000")
scen("name_empty", 'name = "s"', 'name = ""', ["scenario.name"])
scen("name_space", 'name = "s"', 'name = "my run"', ["scenario.name", "my run"])
scen("name_dot", 'name = "s"', 'name = ".hidden"', ["scenario.name", ".hidden"])
scen("name_slash", 'name = "s"', 'name = "a/b"', ["scenario.name", "a/b"])
scen("weekday_unknown", H, H + '\nstart_weekday = "funday"', ["scenario.start_weekday", "funday"])
scen("percentiles_empty", H, H + "\npercentiles = []", ["scenario.percentiles"])
scen("percentiles_zero", H, H + "\npercentiles = [0, 50]", ["scenario.percentiles"])
scen("percentiles_over_100", H, H + "\npercentiles = [50, 101]", ["scenario.percentiles", "101"])
scen("percentiles_nan", H, H + "\npercentiles = [nan]", ["scenario.percentiles"])

# [client]
scen("client_attempts_zero", "max_attempts = 3", "max_attempts = 0", ["client.max_attempts", "100"])
scen("client_attempts_many", "max_attempts = 3", "max_attempts = 101", ["client.max_attempts", "100"])
scen("client_backoff_negative", "backoff_base_ms = 500", "backoff_base_ms = -1", ["client.backoff_base_ms"])
scen("client_backoff_max_below_base", "backoff_max_ms = 8000", "backoff_max_ms = 100", ["client.backoff_max_ms", "backoff_base_ms"])
scen("client_jitter", 'jitter = "full"', 'jitter = "some"', ["client.jitter", "some"])
scen("client_timeout_zero", 'jitter = "full"', 'jitter = "full"\ntimeout_ms = 0', ["client.timeout_ms"])
scen("client_timeout_inf", 'jitter = "full"', 'jitter = "full"\ntimeout_ms = inf', ["client.timeout_ms"])
scen("client_unknown_key", 'jitter = "full"', 'jitter = "full"\nretries = 2', ["client", "unknown field `retries`"])

# [[class]]
C = 'name = "chat"'
scen("class_none", BASE[BASE.index("[[class]]"):BASE.index("[[deployment]]")], "", ["class"])
scen("class_name_missing", C + "\n", "", ["class[0]", "name"])
scen("class_name_empty", C, 'name = ""', ["class[0].name"])
scen("class_name_duplicate", BASE[BASE.index("[[class]]"):BASE.index("[[deployment]]")],
     BASE[BASE.index("[[class]]"):BASE.index("[[deployment]]")] * 2, ["class[1].name", "chat"])
scen("class_model_missing", 'model = "gpt-4o"\nroute', "route", ["class[0]", "model"])
scen("class_route_empty", 'route = ["ptu", "paygo"]', "route = []", ["class[0].route"])
scen("class_route_unknown", 'route = ["ptu", "paygo"]', 'route = ["ptu", "payg"]', ["class[0].route", "payg"])
scen("class_route_twice", 'route = ["ptu", "paygo"]', 'route = ["ptu", "ptu"]', ["class[0].route", "ptu"])
scen("class_model_not_on_route", 'model = "gpt-4o"\nroute', 'model = "gpt-4o-mini"\nroute', ["class[0]", "gpt-4o-mini"])
scen("class_routing_unknown", C, C + '\nrouting = "random"', ["class[0].routing", "random"])
scen("class_weights_not_weighted", C, C + "\nweights = [1, 1]", ["class[0].weights", "weighted"])
scen("class_weights_length", C, C + '\nrouting = "weighted"\nweights = [1]', ["class[0].weights"])
scen("class_weights_all_zero", C, C + '\nrouting = "weighted"\nweights = [0, 0]', ["class[0].weights"])
scen("class_weights_negative", C, C + '\nrouting = "weighted"\nweights = [1, -1]', ["class[0].weights"])
scen("class_unknown_key", C, C + "\npriority = 1", ["class[0]", "unknown field `priority`"])
scen("class_tag_empty_name", 'tags = { team = "support" }', 'tags = { "" = "support" }', ["class[0].tags"])
scen("sla_ttft_zero", "ttft_ms = 1500", "ttft_ms = 0", ["class[0].sla.ttft_ms"])
scen("sla_ttft_missing", "ttft_ms = 1500, ", "", ["class[0].sla", "ttft_ms"])
scen("sla_percentile_zero", "percentile = 99 }", "percentile = 0 }", ["class[0].sla.percentile"])
scen("sla_percentile_over", "percentile = 99 }", "percentile = 100.5 }", ["class[0].sla.percentile", "100.5"])

# [class.arrivals]
A = "arrivals = { mean_rps = 1.0, peak_hour = 14, peak_to_trough = 2.0 }"
def arr(name, new, expect):
    scen("arrivals_" + name, A, f"arrivals = {{ {new} }}", expect)
arr("rate_missing", "peak_hour = 14, peak_to_trough = 2.0", ["class[0].arrivals", "mean_rps"])
arr("rate_zero", "mean_rps = 0", ["class[0].arrivals.mean_rps", "got 0"])
arr("rate_negative", "mean_rps = -1", ["class[0].arrivals.mean_rps", "-1"])
arr("rate_inf", "mean_rps = inf", ["class[0].arrivals.mean_rps"])
arr("rate_too_high", "mean_rps = 2e6", ["class[0].arrivals.mean_rps", "1e6", "2000000"])
arr("process_unknown", 'mean_rps = 1, process = "bursty"', ["class[0].arrivals.process", "bursty"])
arr("hourly_short", "mean_rps = 1, hourly = [" + ", ".join(["1"] * 23) + "]", ["class[0].arrivals.hourly", "24"])
arr("hourly_all_zero", "mean_rps = 1, hourly = [" + ", ".join(["0"] * 24) + "]", ["class[0].arrivals.hourly"])
arr("hourly_negative", "mean_rps = 1, hourly = [-1" + ", 1" * 23 + "]", ["class[0].arrivals.hourly"])
arr("hourly_and_peak", "mean_rps = 1, peak_to_trough = 2, hourly = [" + ", ".join(["1"] * 24) + "]", ["class[0].arrivals", "hourly"])
arr("peak_hour_24", "mean_rps = 1, peak_hour = 24, peak_to_trough = 2", ["class[0].arrivals.peak_hour", "24"])
arr("peak_hour_alone", "mean_rps = 1, peak_hour = 3", ["class[0].arrivals.peak_to_trough", "peak_hour"])
arr("peak_to_trough_below_1", "mean_rps = 1, peak_to_trough = 0.5", ["class[0].arrivals.peak_to_trough", "0.5"])
arr("weekday_six", "mean_rps = 1, weekday = [1, 1, 1, 1, 1, 1]", ["class[0].arrivals.weekday", "7"])
arr("overdispersion_negative", "mean_rps = 1, overdispersion = -1", ["class[0].arrivals.overdispersion", "-1"])
arr("overdispersion_too_big", "mean_rps = 1, overdispersion = 101", ["class[0].arrivals.overdispersion", "100"])
arr("overdispersion_deterministic", 'mean_rps = 1, process = "deterministic", overdispersion = 1', ["class[0].arrivals.overdispersion", "deterministic"])
arr("burst_interval_not_divisor", "mean_rps = 1, burst_interval_s = 7", ["class[0].arrivals.burst_interval_s", "3600"])
arr("burst_interval_zero", "mean_rps = 1, burst_interval_s = 0", ["class[0].arrivals.burst_interval_s"])
arr("unknown_key", "mean_rps = 1, burst = 3", ["class[0].arrivals", "unknown field `burst`"])

# [class.input_tokens] / [class.output_tokens]
I = 'input_tokens = { dist = "lognormal", median = 800, p90 = 3000 }'
def tok(name, new, expect):
    scen("tokens_" + name, I, f"input_tokens = {{ {new} }}", expect)
tok("dist_missing", "median = 800, p90 = 3000", ["class[0].input_tokens", "dist"])
tok("dist_unknown", 'dist = "gamma", mean = 3', ["class[0].input_tokens", "gamma"])
tok("fixed_negative", 'dist = "fixed", value = -1', ["class[0].input_tokens.value", "-1"])
tok("fixed_fraction", 'dist = "fixed", value = 1.5', ["class[0].input_tokens.value", "1.5"])
tok("lognormal_no_p90", 'dist = "lognormal", median = 800', ["class[0].input_tokens", "p90"])
tok("lognormal_p90_below", 'dist = "lognormal", median = 800, p90 = 300', ["class[0].input_tokens.p90", "median"])
tok("lognormal_median_zero", 'dist = "lognormal", median = 0, p90 = 300', ["class[0].input_tokens.median"])
tok("lognormal_extra_key", 'dist = "lognormal", median = 800, p90 = 3000, mean = 5', ["class[0].input_tokens", "mean"])
tok("exponential_zero", 'dist = "exponential", mean = 0', ["class[0].input_tokens.mean"])
tok("empirical_one_pair", 'dist = "empirical", quantiles = [[0, 10]]', ["class[0].input_tokens.quantiles"])
tok("empirical_start", 'dist = "empirical", quantiles = [[10, 10], [100, 20]]', ["class[0].input_tokens.quantiles"])
tok("empirical_falling", 'dist = "empirical", quantiles = [[0, 50], [50, 10], [100, 20]]', ["class[0].input_tokens.quantiles[1]"])
tok("empirical_not_pair", 'dist = "empirical", quantiles = [[0, 10, 3], [100, 20]]', ["class[0].input_tokens.quantiles"])
tok("max_zero", 'dist = "exponential", mean = 5, max = 0', ["class[0].input_tokens.max"])
scen("tokens_output_missing", 'output_tokens = { dist = "lognormal", median = 200, p90 = 600 }\n', "", ["class[0]", "output_tokens"])

# [[deployment]]
P = 'on_demand = { input_per_1m = 2.5, output_per_1m = 10.0, rpm = 600, tpm = 400000 }'
R = 'reserved = { units = 15, min_units = 15, unit_step = 5, tpm_per_unit = 2500, output_weight = 3, term = "monthly", max_wait_ms = 200, price_per_unit_hour = { monthly = 0.3562, hourly = 1.0 } }'
def od(name, new, expect):
    scen("on_demand_" + name, P, f"on_demand = {{ {new} }}", expect)
def rs(name, old, new, expect):
    scen("reserved_" + name, R, R.replace(old, new, 1), expect)
scen("deployment_none", BASE[BASE.index("[[deployment]]"):], "", ["deployment"])
scen("deployment_both_pools", P, P + "\n" + R.replace("term", "term", 1), ["deployment[1]", "exactly one"])
scen("deployment_no_pool", P + "\n", "", ["deployment[1]", "exactly one"])
scen("deployment_name_duplicate", 'name = "paygo"\nplatform', 'name = "ptu"\nplatform', ["deployment[1].name", "ptu"])
scen("deployment_platform_unknown", 'name = "paygo"\nplatform = "azure-openai"', 'name = "paygo"\nplatform = "aws"', ["deployment[1].platform", "aws"])
scen("deployment_model_not_sold", 'name = "paygo"\nplatform = "azure-openai"', 'name = "paygo"\nplatform = "bedrock"', ["deployment[1]", "bedrock"])
scen("deployment_offering_unknown", 'name = "paygo"\nplatform = "azure-openai"\nmodel = "gpt-4o"', 'name = "paygo"\noffering = "azure-openai/nope"', ["deployment[1].offering", "azure-openai/nope"])
scen("deployment_latency_missing", 'latency = { median_ms = 450, p99_ms = 2500, prefill_ms_per_1k_input = 100 }\n', "", ["deployment[1]", "latency"])
scen("latency_negative", "median_ms = 450", "median_ms = -450", ["deployment[1].latency.median_ms", "-450"])
scen("latency_p99_below_median", "p99_ms = 2500", "p99_ms = 100", ["deployment[1].latency.p99_ms", "median_ms"])
scen("latency_zero_median", "median_ms = 450, p99_ms = 2500", "median_ms = 0, p99_ms = 2500", ["deployment[1].latency"])
scen("latency_prefill_huge", "median_ms = 450, p99_ms = 2500, prefill_ms_per_1k_input = 100", "median_ms = 450, p99_ms = 2500, prefill_ms_per_1k_input = 100001", ["deployment[1].latency.prefill_ms_per_1k_input", "100001"])
od("price_negative", "input_per_1m = -2.5, output_per_1m = 10.0", ["deployment[1].on_demand.input_per_1m", "-2.5"])
od("price_missing", "input_per_1m = 2.5", ["deployment[1].on_demand", "output_per_1m"])
od("rpm_below_one", "input_per_1m = 2.5, output_per_1m = 10.0, rpm = 0.5", ["deployment[1].on_demand.rpm", "0.5"])
od("tpm_zero", "input_per_1m = 2.5, output_per_1m = 10.0, tpm = 0", ["deployment[1].on_demand.tpm"])
od("background_over_one", "input_per_1m = 2.5, output_per_1m = 10.0, background_utilization = 1.5", ["deployment[1].on_demand.background_utilization", "1.5"])
od("max_pool_one", "input_per_1m = 2.5, output_per_1m = 10.0, max_pool_utilization = 1", ["deployment[1].on_demand.max_pool_utilization"])
od("shared_pool_zero", "input_per_1m = 2.5, output_per_1m = 10.0, shared_pool_tpm = 0", ["deployment[1].on_demand.shared_pool_tpm"])
od("background_shape_twice", "input_per_1m = 2.5, output_per_1m = 10.0, background_utilization = 0.5, background_peak_to_trough = 2, background_hourly = [" + ", ".join(["1"] * 24) + "]", ["deployment[1].on_demand", "background_hourly"])
od("unknown_key", "input_per_1m = 2.5, output_per_1m = 10.0, burst = 2", ["deployment[1].on_demand", "unknown field `burst`"])
# Quota shapes (on_demand.quota) and their keys.
Q = "input_per_1m = 2.5, output_per_1m = 10.0, "
od("quota_unknown", Q + 'quota = "gcp"', ["deployment[1].on_demand.quota", "gcp", "bucket, azure, anthropic, bedrock, vertex"])
od("quota_vendor_without_offering", Q + 'quota = "vendor"', ["deployment[1].on_demand.quota", "vendor", "bucket, azure, anthropic, bedrock, vertex"])
od("quota_window_not_divisor", Q + 'quota = "azure", rpm = 600, rpm_window_s = 7', ["deployment[1].on_demand.rpm_window_s", "7", "dividing a minute"])
od("quota_window_zero", Q + 'quota = "azure", rpm = 600, rpm_window_s = 0', ["deployment[1].on_demand.rpm_window_s", "got 0", "1 or 10"])
od("quota_window_on_bucket", Q + 'rpm = 600, rpm_window_s = 1', ["deployment[1].on_demand.rpm_window_s", "quota = \"azure\" only"])
od("quota_itpm_zero", Q + 'quota = "anthropic", itpm = 0, otpm = 8000', ["deployment[1].on_demand.itpm", "got 0", "1 to"])
od("quota_cache_reads_on_bedrock", Q + 'quota = "bedrock", itpm_cache_reads = true', ["deployment[1].on_demand.itpm_cache_reads", "quota = \"anthropic\" only"])
od("quota_otpm_on_azure", Q + 'quota = "azure", otpm = 8000', ["deployment[1].on_demand.otpm", "quota = \"anthropic\" only"])
od("quota_anthropic_tpm", Q + 'quota = "anthropic", tpm = 280000, itpm = 200000', ["deployment[1].on_demand.tpm", "itpm and otpm"])
od("quota_burndown_below_one", Q + 'quota = "bedrock", output_burndown = 0.5', ["deployment[1].on_demand.output_burndown", "0.5", "1 to 100"])
od("quota_burndown_on_vertex", Q + 'quota = "vertex", output_burndown = 5', ["deployment[1].on_demand.output_burndown", "quota = \"bedrock\" only"])
scen("class_max_tokens_zero", 'output_tokens = { dist = "lognormal", median = 200, p90 = 600 }\n', 'output_tokens = { dist = "lognormal", median = 200, p90 = 600 }\nmax_tokens = 0\n', ["class[0].max_tokens", "got 0", ">= 1"])
scen("class_max_tokens_fraction", 'output_tokens = { dist = "lognormal", median = 200, p90 = 600 }\n', 'output_tokens = { dist = "lognormal", median = 200, p90 = 600 }\nmax_tokens = 512.5\n', ["class[0].max_tokens", "512.5", "whole number"])
scen("class_max_tokens_huge", 'output_tokens = { dist = "lognormal", median = 200, p90 = 600 }\n', 'output_tokens = { dist = "lognormal", median = 200, p90 = 600 }\nmax_tokens = 20000000\n', ["class[0].max_tokens", "20000000", "1 to 10000000"])
scen("class_max_tokens_text", 'output_tokens = { dist = "lognormal", median = 200, p90 = 600 }\n', 'output_tokens = { dist = "lognormal", median = 200, p90 = 600 }\nmax_tokens = "4k"\n', ["class[0].max_tokens", "4k"])
rs("units_zero", "units = 15, min", "units = 0, min", ["deployment[0].reserved.units"])
rs("units_off_step", "units = 15, min", "units = 17, min", ["deployment[0].reserved.units", "unit_step = 5", "17"])
rs("units_fraction", "units = 15, min", "units = 15.5, min", ["deployment[0].reserved.units", "15.5"])
rs("tpm_zero", "tpm_per_unit = 2500", "tpm_per_unit = 0", ["deployment[0].reserved.tpm_per_unit"])
rs("output_weight_big", "output_weight = 3", "output_weight = 1001", ["deployment[0].reserved.output_weight", "1000"])
rs("concurrency_zero", "output_weight = 3", "output_weight = 3, concurrency_per_unit = 0", ["deployment[0].reserved.concurrency_per_unit"])
rs("slots_over_limit", "output_weight = 3", "output_weight = 3, concurrency_per_unit = 1000000", ["deployment[0].reserved", "10,000,000"])
rs("term_unknown", 'term = "monthly"', 'term = "weekly"', ["deployment[0].reserved.term", "weekly"])
rs("term_not_priced", 'term = "monthly"', 'term = "yearly"', ["deployment[0].reserved", "yearly"])
rs("price_negative", "monthly = 0.3562", "monthly = -0.3562", ["deployment[0].reserved.price_per_unit_hour.monthly"])
rs("price_unknown_term", "hourly = 1.0", "weekly = 1.0", ["deployment[0].reserved.price_per_unit_hour", "weekly"])
rs("max_queue_huge", "max_wait_ms = 200", "max_queue = 2000000", ["deployment[0].reserved.max_queue", "1048576"])
rs("max_wait_negative", "max_wait_ms = 200", "max_wait_ms = -200", ["deployment[0].reserved.max_wait_ms", "-200"])
rs("min_units_zero", "min_units = 15", "min_units = 0", ["deployment[0].reserved.min_units"])

# [gateway]
G = "\n[gateway]\n"
scen("gateway_latency_negative", "[[deployment]]\nname = \"ptu\"", "[gateway]\nlatency_ms = -1\n\n[[deployment]]\nname = \"ptu\"", ["gateway.latency_ms", "-1"])
scen("gateway_window_alone", "[[deployment]]\nname = \"ptu\"", "[gateway]\ncooldown_window_s = 30\n\n[[deployment]]\nname = \"ptu\"", ["gateway.cooldown_failures", "cooldown_window_s"])
scen("gateway_failures_zero", "[[deployment]]\nname = \"ptu\"", "[gateway]\ncooldown_failures = 0\n\n[[deployment]]\nname = \"ptu\"", ["gateway.cooldown_failures"])
scen("gateway_unknown_key", "[[deployment]]\nname = \"ptu\"", "[gateway]\nretries = 1\n\n[[deployment]]\nname = \"ptu\"", ["gateway", "unknown field `retries`"])

# [[outage]]
def outage(name, body, expect, **kw):
    scen("outage_" + name, BASE, BASE + "\n[[outage]]\n" + body + "\n", expect, **kw)
outage("deployment_unknown", 'deployments = ["nope"]\nstart_hour = 0\nduration_hours = 1', ["outage[0].deployments", "nope"])
outage("both_targets", 'deployments = ["ptu"]\nplatform = "azure-openai"\nstart_hour = 0\nduration_hours = 1', ["outage[0]", "platform"])
outage("no_target", 'start_hour = 0\nduration_hours = 1', ["outage[0]"])
outage("platform_unused", 'platform = "bedrock"\nstart_hour = 0\nduration_hours = 1', ["outage[0].platform", "bedrock"])
outage("region_alone", 'deployments = ["ptu"]\nregion = "eastus"\nstart_hour = 0\nduration_hours = 1', ["outage[0].region"])
outage("start_after_horizon", 'deployments = ["ptu"]\nstart_hour = 5\nduration_hours = 1', ["outage[0].start_hour", "5"])
outage("duration_negative", 'deployments = ["ptu"]\nstart_hour = 0\nduration_hours = -1', ["outage[0].duration_hours", "-1"])
outage("scheduled_and_random", 'deployments = ["ptu"]\nstart_hour = 0\nduration_hours = 1\nmtbf_hours = 10\nmttr_hours = 1', ["outage[0]", "mtbf_hours"])
outage("mtbf_tiny", 'deployments = ["ptu"]\nmtbf_hours = 0.0001\nmttr_hours = 1', ["outage[0].mtbf_hours", "0.0001"])
outage("windows_too_many", 'deployments = ["ptu", "paygo"]\nmtbf_hours = 0.001\nmttr_hours = 0.001', ["outage[0].mtbf_hours", "1,000,000"], cmd="run s.toml --horizon-hours 2000")
outage("mttr_zero", 'deployments = ["ptu"]\nmtbf_hours = 10\nmttr_hours = 0', ["outage[0].mttr_hours"])
outage("effect_unknown", 'deployments = ["ptu"]\nstart_hour = 0\nduration_hours = 1\neffect = "half"', ["outage[0].effect", "half"])
outage("latency_factor_full", 'deployments = ["ptu"]\nstart_hour = 0\nduration_hours = 1\nlatency_factor = 2', ["outage[0].effect", "latency_factor", "partial"])
outage("error_rate_over_one", 'deployments = ["ptu"]\nstart_hour = 0\nduration_hours = 1\neffect = "partial"\nerror_rate = 2', ["outage[0].error_rate", "2"])
outage("nothing_when", 'deployments = ["ptu"]', ["outage[0]"])

# [sweep]
def sweep(name, body, expect, cmd="run s.toml"):
    scen("sweep_" + name, BASE, BASE + "\n[sweep]\n" + body + "\n", expect, cmd=cmd)
sweep("key_missing", "values = [15, 20]", ["sweep", "key"])
sweep("key_unknown", 'key = "deployment.ptu.reserved.unitz"\nvalues = [15, 20]', ["sweep.key", "unitz"])
sweep("key_no_deployment", 'key = "deployment.nope.reserved.units"\nvalues = [15, 20]', ["sweep.key", "nope"])
sweep("key_not_number", 'key = "deployment.ptu.reserved.term"\nvalues = [15, 20]', ["sweep.key", "term"])
sweep("values_empty", 'key = "deployment.ptu.reserved.units"\nvalues = []', ["sweep.values"])
sweep("values_nan", 'key = "deployment.ptu.reserved.units"\nvalues = [15, nan]', ["sweep.values"])
sweep("values_and_range", 'key = "deployment.ptu.reserved.units"\nvalues = [15]\nfrom = 15\nto = 20\nstep = 5', ["sweep", "values"])
sweep("from_after_to", 'key = "deployment.ptu.reserved.units"\nfrom = 30\nto = 15\nstep = 5', ["sweep.to", "from"])
sweep("step_zero", 'key = "deployment.ptu.reserved.units"\nfrom = 15\nto = 30\nstep = 0', ["sweep.step"])
sweep("step_too_many", 'key = "deployment.ptu.reserved.units"\nfrom = 15\nto = 300000\nstep = 5', ["sweep.step", "10000"])
sweep("points_zero", 'key = "deployment.ptu.reserved.units"\nfrom = 15\nto = 30\npoints = 0', ["sweep.points"])
sweep("points_too_many", 'key = "deployment.ptu.reserved.units"\nfrom = 15\nto = 30\npoints = 10001', ["sweep.points", "10000"])
sweep("step_and_points", 'key = "deployment.ptu.reserved.units"\nfrom = 15\nto = 30\nstep = 5\npoints = 4', ["sweep", "points"])
sweep("compare_unknown", 'key = "deployment.ptu.reserved.units"\nvalues = [15, 20]\ncompare = "nope"', ["sweep.compare", "nope"], cmd="sweep s.toml")
sweep("compare_reserved", 'key = "deployment.ptu.reserved.units"\nvalues = [15, 20]\ncompare = "ptu"', ["sweep.compare", "ptu"], cmd="sweep s.toml")
sweep("replications_zero", 'key = "deployment.ptu.reserved.units"\nvalues = [15, 20]\nreplications = 0', ["sweep.replications"])
sweep("point_invalid", 'key = "deployment.ptu.reserved.units"\nvalues = [15, 17]', ["units", "17"], cmd="sweep s.toml")
sweep("unknown_key", 'key = "deployment.ptu.reserved.units"\nvalues = [15]\nthreads = 2', ["sweep", "unknown field `threads`"])

# [plan]
def plan(name, body, expect, cmd="plan s.toml"):
    scen("plan_" + name, BASE, BASE + "\n[plan]\n" + body + "\n", expect, cmd=cmd)
plan("sla_no_time", 'sla = "p99"', ["plan.sla", "p99"])
plan("sla_percentile_over", 'sla = "p101<=1s"', ["plan.sla", "p101"])
plan("sla_words", 'sla = "fast please"', ["plan.sla", "fast please"])
plan("sla_zero_time", 'sla = "p99<=0ms"', ["plan.sla"])
plan("deployment_unknown", 'deployment = "nope"', ["plan.deployment", "nope"])
plan("deployment_on_demand", 'deployment = "paygo"', ["plan.deployment", "paygo"])
plan("terms_unknown", 'terms = ["weekly"]', ["plan.terms", "weekly"])
plan("terms_not_priced", 'terms = ["yearly"]', ["plan.terms", "yearly"])
plan("max_units_zero", "max_units = 0", ["plan.max_units"])
plan("max_units_huge", "max_units = 100000000", ["plan.max_units", "10000000"])
plan("max_units_below_min", "max_units = 5", ["plan.max_units", "15"])
plan("confidence", "confidence = 0.9", ["plan", "confidence"], cmd="run s.toml")
plan("replications_zero", "replications = 0", ["plan.replications"], cmd="run s.toml")

# ---------------------------------------------------------------------------------------------
# Traces (each format).
# ---------------------------------------------------------------------------------------------
def trace(name, keys, files, expect, cmd="run t.toml"):
    fs = {"t.toml": TRACE_BASE.format(trace=keys)}
    fs.update(files)
    case("trace_" + name, cmd, ["t.toml"] + expect, fs)

trace("format_missing", 'trace = "a.csv"', {"a.csv": AZURE}, ["class[0].arrivals", "format"])
trace("format_unknown", 'trace = "a.csv", format = "json"', {"a.csv": AZURE}, ["class[0].arrivals.format", "json"])
trace("file_missing", 'trace = "nope.csv", format = "azure"', {}, ["class[0].arrivals.trace", "nope.csv"])
trace("file_is_folder", 'trace = "dir", format = "azure"', {"dir/x": ""}, ["class[0].arrivals.trace", "dir"])
case("trace_with_tokens", "run t.toml", ["t.toml", "class[0]", "input_tokens"], {"t.toml": TRACE_BASE.format(trace='trace = "a.csv", format = "azure"').replace('arrivals = {', 'input_tokens = { dist = "fixed", value = 10 }\narrivals = {'), "a.csv": AZURE})
trace("with_mean_rps", 'trace = "a.csv", format = "azure", mean_rps = 2', {"a.csv": AZURE}, ["class[0].arrivals", "mean_rps"])
trace("azure_bad_time", 'trace = "a.csv", format = "azure"', {"a.csv": AZURE.replace("2024-03-04 09:00:03.7500000", "yesterday")}, ["a.csv:3", "TIMESTAMP"])
trace("azure_negative_tokens", 'trace = "a.csv", format = "azure"', {"a.csv": AZURE.replace(",610,", ",-610,")}, ["a.csv:3", "ContextTokens"])
trace("azure_unsorted", 'trace = "a.csv", format = "azure"', {"a.csv": AZURE.replace("09:00:04.0000000", "08:59:59.0000000")}, ["a.csv:4"])
trace("azure_missing_column", 'trace = "a.csv", format = "azure"', {"a.csv": AZURE.replace("GeneratedTokens", "Generated")}, ["a.csv", "GeneratedTokens"])
trace("azure_header_only", 'trace = "a.csv", format = "azure"', {"a.csv": AZURE.splitlines()[0] + "\n"}, ["a.csv"])
trace("azure_short_row", 'trace = "a.csv", format = "azure"', {"a.csv": AZURE.replace(",610,120", ",610")}, ["a.csv:3"])
trace("burstgpt_fraction", 'trace = "b.csv", format = "burstgpt"', {"b.csv": BURSTGPT.replace(",1087,", ",1087.5,")}, ["b.csv:3", "Request tokens"])
trace("burstgpt_missing_column", 'trace = "b.csv", format = "burstgpt"', {"b.csv": BURSTGPT.replace("Response tokens", "Reply tokens")}, ["b.csv", "Response tokens"])
trace("burstgpt_bad_time", 'trace = "b.csv", format = "burstgpt"', {"b.csv": BURSTGPT.replace("\n45,", "\nabc,")}, ["b.csv:3", "Timestamp"])
trace("burstgpt_model_absent", 'trace = "b.csv", format = "burstgpt", model = "GPT-5"', {"b.csv": BURSTGPT}, ["class[0].arrivals.model", "GPT-5", "ChatGPT, GPT-4"])
trace("jsonl_not_json", 'trace = "m.jsonl", format = "mooncake"', {"m.jsonl": MOONCAKE.replace('{"timestamp": 1000', '{timestamp: 1000')}, ["m.jsonl:2"])
trace("jsonl_missing_output_length", 'trace = "m.jsonl", format = "mooncake"', {"m.jsonl": MOONCAKE.replace('"output_length": 30, ', "")}, ["m.jsonl:2", "output_length"])
trace("jsonl_unsorted", 'trace = "m.jsonl", format = "mooncake"', {"m.jsonl": MOONCAKE.replace('"timestamp": 2500,', '"timestamp": 500,')}, ["m.jsonl:3", "sorted"])
trace("jsonl_model", 'trace = "m.jsonl", format = "mooncake", model = "x"', {"m.jsonl": MOONCAKE}, ["class[0].arrivals.model"])
trace("csv_no_columns", 'trace = "c.csv", format = "csv"', {"c.csv": CSV}, ["class[0].arrivals", "time_column"])
trace("csv_unknown_column", 'trace = "c.csv", format = "csv", time_column = "time", input_column = "in", output_column = "out"', {"c.csv": CSV}, ["c.csv", "time"])
trace("csv_time_unit", 'trace = "c.csv", format = "csv", time_column = "t", input_column = "in", output_column = "out", time_unit = "h"', {"c.csv": CSV}, ["class[0].arrivals.time_unit", "h"])
trace("csv_bad_number", 'trace = "c.csv", format = "csv", time_column = "t", input_column = "in", output_column = "out"', {"c.csv": CSV.replace("200,20", "2x0,20")}, ["c.csv:3", "in"])
trace("csv_model_without_column", 'trace = "c.csv", format = "csv", time_column = "t", input_column = "in", output_column = "out", model = "x"', {"c.csv": CSV}, ["class[0].arrivals.model", "model_column"])
trace("csv_columns_on_azure", 'trace = "a.csv", format = "azure", time_column = "t"', {"a.csv": AZURE}, ["class[0].arrivals.time_column"])
trace("time_scale_zero", 'trace = "a.csv", format = "azure", time_scale = 0', {"a.csv": AZURE}, ["class[0].arrivals.time_scale"])
trace("time_scale_huge", 'trace = "a.csv", format = "azure", time_scale = 2e6', {"a.csv": AZURE}, ["class[0].arrivals.time_scale"])
trace("tile_too_many_passes", 'trace = "a.csv", format = "azure", time_scale = 1e6, tile = true', {"a.csv": AZURE}, ["class[0].arrivals.time_scale", "passes"])
trace("rate_scale_negative", 'trace = "a.csv", format = "azure", rate_scale = -1', {"a.csv": AZURE}, ["class[0].arrivals.rate_scale", "-1"])
trace("rate_scale_huge", 'trace = "a.csv", format = "azure", rate_scale = 1001', {"a.csv": AZURE}, ["class[0].arrivals.rate_scale", "1000"])
trace("offset_negative", 'trace = "a.csv", format = "azure", offset_s = -1', {"a.csv": AZURE}, ["class[0].arrivals.offset_s", "-1"])
trace("bad_rows_unknown", 'trace = "a.csv", format = "azure", bad_rows = "ignore"', {"a.csv": AZURE}, ["class[0].arrivals.bad_rows", "ignore"])
trace("not_utf8_path_ok_but_binary", 'trace = "a.csv", format = "azure"', {"a.csv": "TIMESTAMP,ContextTokens,GeneratedTokens\n\x00\x01\x02,1,2\n"}, ["a.csv:2"])
trace("override_unknown_class", 'trace = "a.csv", format = "azure"', {"a.csv": AZURE}, ["--trace", "nope"], cmd="run t.toml --trace nope=a.csv")
case("trace_override_missing_file", "run t.toml --trace replay=gone.csv", ["--trace replay=gone.csv", "no such file"], {"t.toml": TRACE_BASE.format(trace='trace = "a.csv", format = "azure"'), "a.csv": AZURE})
trace("override_bad_rows", 'trace = "a.csv", format = "azure"', {"a.csv": AZURE, "b.csv": AZURE.replace(",610,", ",x,")}, ["b.csv:3"], cmd="validate t.toml --trace b.csv")
trace("sweep_demand_scale", 'trace = "a.csv", format = "azure"', {"a.csv": AZURE}, ["demand_scale"], cmd="sweep t.toml --key demand_scale --values 1,2")

# ---------------------------------------------------------------------------------------------
# Workload profiles (pick).
# ---------------------------------------------------------------------------------------------
def prof(name, old, new, expect, cmd="pick p.toml", base=PROFILE):
    case("profile_" + name, cmd, ["p.toml"] + expect, {"p.toml": edit(old, new, base)})
prof("not_toml", 'sla = "p99<=8s"', 'sla = p99<=8s', ["p.toml:3"])
prof("unknown_key", 'sla = "p99<=8s"', 'sla = "p99<=8s"\nbudget = 5', ["profile", "unknown field `budget`"])
prof("sla_bad", 'sla = "p99<=8s"', 'sla = "soon"', ["profile.sla", "soon"])
prof("budget_negative", 'sla = "p99<=8s"', 'sla = "p99<=8s"\nbudget_usd_per_month = -5', ["profile.budget_usd_per_month", "-5"])
prof("residency_unknown", 'sla = "p99<=8s"', 'sla = "p99<=8s"\nresidency = "mars-north"', ["profile.residency", "mars-north"])
prof("certification_unknown", 'sla = "p99<=8s"', 'sla = "p99<=8s"\ncertifications = ["pci"]', ["profile.certifications", "pci"])
prof("kind_unknown", 'sla = "p99<=8s"', 'sla = "p99<=8s"\nplatform_kinds = ["edge"]', ["profile.platform_kinds", "edge"])
prof("workloads_too_many", "[[workload]]", "\n".join('[[workload]]\nname = "w%d"\nmodel = "gpt-4o"\nrequests_per_day = 1000\ninput_tokens = { dist = "fixed", value = 100 }\noutput_tokens = { dist = "fixed", value = 10 }\n' % k for k in range(100)) + "\n[[workload]]", ["workload", "101", "at most 100"])
prof("horizon_long", "horizon_hours = 2", "horizon_hours = 745", ["simulation.horizon_hours", "744"])
prof("horizon_zero", "horizon_hours = 2", "horizon_hours = 0", ["simulation.horizon_hours", "from 1 to 744", "got 0"])
prof("horizon_fraction", "horizon_hours = 2", "horizon_hours = 2.5", ["simulation.horizon_hours", "from 1 to 744", "got 2.5"])
prof("horizon_flag_over_outage", "seed = 1", "seed = 1\noutage_hours = 2", ["simulation.outage_hours", "got 2"], cmd="pick p.toml --horizon-hours 1")
prof("horizon_flag_too_long", "seed = 1", "seed = 1", ["simulation.horizon_hours", "744", "got 800"], cmd="pick p.toml --horizon-hours 800")
prof("replications_flag_too_many", "seed = 1", "seed = 1", ["simulation.replications", "100", "got 500"], cmd="pick p.toml --replications 500")
prof("replications_many", "replications = 1", "replications = 101", ["simulation.replications", "100"])
prof("outage_longer_than_horizon", "seed = 1", "seed = 1\noutage_hours = 3", ["simulation.outage_hours", "3"])
prof("outage_negative", "seed = 1", "seed = 1\noutage_hours = -1", ["simulation.outage_hours", "-1"])
prof("weekday_unknown", "seed = 1", 'seed = 1\nstart_weekday = "someday"', ["simulation.start_weekday", "someday"])
prof("no_workload", PROFILE[PROFILE.index("[[workload]]"):], "", ["workload"])
prof("volume_twice", "requests_per_day = 20000", "requests_per_day = 20000\ntokens_per_month = 1e9", ["workload[0]", "tokens_per_month"])
prof("volume_missing", "requests_per_day = 20000\n", "", ["workload[0]", "requests_per_day"])
prof("volume_zero", "requests_per_day = 20000", "requests_per_day = 0", ["workload[0].requests_per_day"])
prof("peak_to_trough_low", "peak_to_trough = 2.0", "peak_to_trough = 0.5", ["workload[0].peak_to_trough", "0.5"])
prof("tokens_bad", 'input_tokens = { dist = "lognormal", median = 1500, p90 = 5000 }', 'input_tokens = { dist = "lognormal", median = 1500, p90 = 50 }', ["workload[0].input_tokens.p90"])
prof("workload_unknown_key", 'name = "support"', 'name = "support"\nroute = ["x"]', ["workload[0]", "unknown field `route`"])
prof("model_misspelled", 'model = "gpt-4o"', 'model = "claude-3.7-sonnet"', ["workload[0].model", "claude-3.7-sonnet", "did you mean claude-3-7-sonnet"])
prof("alternative_misspelled", 'model = "gpt-4o"', 'model = "gpt-4o"\nalternatives = ["gpt4.1"]', ["workload[0].alternatives[0]", "did you mean gpt-4.1"])
prof("substitute_unknown", 'model = "gpt-4o"', 'model = "gpt-4o"\nsubstitutes = ["llama-9-900b"]', ["workload[0].substitutes[0]", "llama-9-900b", "did you mean"])
prof("max_tokens_zero", 'output_tokens = { dist = "lognormal", median = 300, p90 = 900 }', 'output_tokens = { dist = "lognormal", median = 300, p90 = 900 }\nmax_tokens = 0', ["workload[0].max_tokens", "got 0", ">= 1"])
prof("max_tokens_fraction", 'output_tokens = { dist = "lognormal", median = 300, p90 = 900 }', 'output_tokens = { dist = "lognormal", median = 300, p90 = 900 }\nmax_tokens = 512.5', ["workload[0].max_tokens", "512.5", "whole number"])
prof("max_tokens_huge", 'output_tokens = { dist = "lognormal", median = 300, p90 = 900 }', 'output_tokens = { dist = "lognormal", median = 300, p90 = 900 }\nmax_tokens = 20000000', ["workload[0].max_tokens", "20000000", "1 to 10000000"])
prof("max_tokens_text", 'output_tokens = { dist = "lognormal", median = 300, p90 = 900 }', 'output_tokens = { dist = "lognormal", median = 300, p90 = 900 }\nmax_tokens = "4k"', ["workload[0].max_tokens", "4k"])
prof("completion_sla_not_deferrable", 'name = "support"', 'name = "support"\ncompletion_sla_hours = 12', ["workload[0].completion_sla_hours", "deferrable workloads only"])
prof("completion_sla_zero", 'name = "support"', 'name = "support"\ndeferrable = true\ncompletion_sla_hours = 0', ["workload[0].completion_sla_hours", "greater than 0", "got 0"])
prof("completion_sla_negative", 'name = "support"', 'name = "support"\ndeferrable = true\ncompletion_sla_hours = -3', ["workload[0].completion_sla_hours", "0 to 744", "got -3"])
prof("completion_sla_too_long", 'name = "support"', 'name = "support"\ndeferrable = true\ncompletion_sla_hours = 1000', ["workload[0].completion_sla_hours", "0 to 744", "got 1000"])
prof("submit_every_not_deferrable", 'name = "support"', 'name = "support"\nsubmit_every_minutes = 30', ["workload[0].submit_every_minutes", "deferrable workloads only"])
prof("submit_every_zero", 'name = "support"', 'name = "support"\ndeferrable = true\nsubmit_every_minutes = 0', ["workload[0].submit_every_minutes", "1 to 10080", "got 0"])
prof("submit_every_too_long", 'name = "support"', 'name = "support"\ndeferrable = true\nsubmit_every_minutes = 20000', ["workload[0].submit_every_minutes", "1 to 10080", "got 20000"])
prof("submit_every_text", 'name = "support"', 'name = "support"\ndeferrable = true\nsubmit_every_minutes = "hourly"', ["workload[0]", "submit_every_minutes", "hourly"])
prof("deferrable_not_bool", 'name = "support"', 'name = "support"\ndeferrable = "yes"', ["workload[0]", "deferrable", "boolean"])
prof("deferrable_max_tokens", 'name = "support"', 'name = "support"\ndeferrable = true\nmax_tokens = 512', ["workload[0].max_tokens", "deferrable workload"])
prof("workload_duplicate", PROFILE[PROFILE.index("[[workload]]"):], PROFILE[PROFILE.index("[[workload]]"):] * 2, ["workload[1].name", "support"])
case("profile_seed_flag_negative", "pick p.toml --seed -1", ["--seed", "-1"], {"p.toml": PROFILE})
case("profile_horizon_flag_zero", "pick p.toml --horizon-hours 0", ["--horizon-hours", "0"], {"p.toml": PROFILE})

# ---------------------------------------------------------------------------------------------
# Catalog files (`llmcap catalog FILES`).
# ---------------------------------------------------------------------------------------------
def cat(name, old, new, expect, cmd="catalog c.toml --check"):
    case("catalog_" + name, cmd, ["c.toml"] + expect, {"c.toml": edit(old, new, CATALOG)})
cat("not_toml", 'name = "Acme AI"', 'name = Acme AI', ["c.toml:3"])
cat("no_platform", CATALOG[:CATALOG.index("[[offering]]")], "", ["platform"])
cat("no_source", 'median_ms = { value = 500, source = "test fixture", as_of = "2026-11" }', 'median_ms = { value = 500, as_of = "2026-11" }', ["median_ms", "source"])
cat("bad_as_of", 'median_ms = { value = 500, source = "test fixture", as_of = "2026-11" }', 'median_ms = { value = 500, source = "test fixture", as_of = "last year" }', ["median_ms", "last year"])
cat("negative_price", "input_per_1m = { value = 1.00", "input_per_1m = { value = -1.00", ["input_per_1m", "-1"])
cat("unknown_kind", 'kind = "on_demand"', 'kind = "spot"', ["kind", "spot"])
cat("unknown_platform_kind", 'kind = "hyperscaler"', 'kind = "mainframe"', ["kind", "mainframe"])
cat("unknown_key", 'model = "acme-1"', 'model = "acme-1"\ncolour = "red"', ["colour"])
cat("duplicate_offering", CATALOG[CATALOG.index("[[offering]]"):], CATALOG[CATALOG.index("[[offering]]"):] * 2, ["acme-1/standard"])
cat("lifecycle_unknown_status", 'status = { value = "available"', 'status = { value = "sunset"', ["lifecycle.status", "sunset", "available, deprecated, retired"])
cat("lifecycle_retired_without_date", 'status = { value = "available"', 'status = { value = "retired"', ["lifecycle.retired_on", "is missing"])
cat("lifecycle_status_disagrees", 'status = { value = "available", source = "test fixture", as_of = "2026-11" }', 'status = { value = "available", source = "test fixture", as_of = "2026-11" }\nretired_on = { value = "2026-02-19", source = "test fixture", as_of = "2026-11" }', ["lifecycle.status", "make it \"retired\" on 2026-11-30"])
cat("unknown_scope", 'scope = { value = "region"', 'scope = { value = "continent"', ["scope", "continent", "region, geography, global"])
cat("p99_below_median", 'p99_ms = { value = 1500', 'p99_ms = { value = 100', ["p99_ms"])
case("catalog_missing_file", "catalog c.toml gone.toml", ["gone.toml", "cannot read"], {"c.toml": CATALOG})

# deployment.calibration: a calibration file merged into the deployment (docs/scenario.md).
PAYGO_LAT = "latency = { median_ms = 450, p99_ms = 2500, prefill_ms_per_1k_input = 100 }"
def calib(name, cal, expect, new=PAYGO_LAT + '\ncalibration = "c.toml"'):
    files = {"s.toml": edit(PAYGO_LAT, new)}
    if cal is not None:
        files["c.toml"] = cal
    case("scenario_calibration_" + name, "run s.toml", expect, files)
calib("missing_file", None, ["s.toml", "deployment[1].calibration", "c.toml"])
calib("not_a_string", None, ["s.toml", "deployment[1].calibration", "path"], new=PAYGO_LAT + "\ncalibration = 3")
calib("conflict", "latency.median_ms = 400.0\n", ["c.toml", "latency.median_ms", "also set in the scenario"])
calib("unknown_key", "latency.median = 400.0\n", ["c.toml", "latency.median", "unknown key"])
calib("unknown_table", "class.mean_rps = 4\n", ["c.toml", "class", "latency.*"])
calib("wrong_pool", "reserved.tpm_per_unit = 3000.0\n", ["c.toml", "reserved", "on_demand"])
calib("bad_value", "on_demand.shared_pool_tpm = -5.0\n", ["s.toml", "shared_pool_tpm", "-5"])
calib("not_toml", "latency.median_ms = = 1\n", ["c.toml:1:"])
calib("load_slows", "on_demand.shared_pool_tpm = 100000.0\n", ["s.toml", "latency.load_slows", "prefill, all"], new='latency = { median_ms = 450, p99_ms = 2500, load_slows = "queue" }\ncalibration = "c.toml"')

# ---------------------------------------------------------------------------------------------
# Command-line flags.
# ---------------------------------------------------------------------------------------------
def cli(name, cmd, expect, files=None, code=2):
    case("cli_" + name, cmd, expect, files if files is not None else {"s.toml": BASE}, code=code)
cli("seed_negative", "run s.toml --seed -1", ["--seed", "-1"])
cli("seed_text", "run s.toml --seed abc", ["--seed", "abc"])
cli("seed_too_big", "run s.toml --seed 9223372036854775808", ["--seed", "9223372036854775808"])
cli("replications_zero", "run s.toml --replications 0", ["replications", "10000"])
cli("replications_many", "run s.toml --replications 10001", ["replications", "10000"])
cli("horizon_zero", "run s.toml --horizon-hours 0", ["horizon", "0"])
cli("horizon_long", "run s.toml --horizon-hours 26353", ["horizon", "26352"])
cli("horizon_fraction", "run s.toml --horizon-hours 1.5", ["horizon", "1.5"])
cli("threads_zero", "run s.toml --threads 0", ["--threads", "0"])
cli("threads_many", "run s.toml --threads 1025", ["--threads", "1024"])
cli("threads_negative", "run s.toml --threads -2", ["--threads", "-2"])
cli("replications_negative", "run s.toml --replications -1", ["--replications", "-1"])
cli("horizon_negative", "run s.toml --horizon-hours -1", ["--horizon-hours", "-1"])
cli("points_negative", "sweep s.toml --key deployment.ptu.reserved.units --from 15 --to 30 --points -3", ["--points", "-3"])
cli("max_units_negative", "plan s.toml --max-units -5", ["--max-units", "-5"])
cli("fit_interval_negative", "fit c.csv --format csv --time-column t --input-column in --output-column out --interval -60", ["--interval", "-60"], files={"c.csv": CSV})
cli("out_dot", "run s.toml --out .", ["--out"])
cli("out_dotdot", "run s.toml --out sub/..", ["--out"], files={"s.toml": BASE, "sub/keep": "x"})
cli("out_hidden", "run s.toml --out .results", ["--out", ".results"])
cli("out_is_file", "run s.toml --out notes.txt", ["--out", "notes.txt"], files={"s.toml": BASE, "notes.txt": "mine"})
cli("out_foreign_files", "run s.toml --out res", ["--out", "thesis.tex"], files={"s.toml": BASE, "res/thesis.tex": "mine"})
cli("out_holds_scenario", "run res/s.toml --out res", ["--out", "s.toml"], files={"res/s.toml": BASE})
cli("scenario_missing", "run gone.toml", ["gone.toml"], files={})
cli("scenario_folder", "run dir", ["dir"], files={"dir/x.toml": BASE})
cli("scenario_empty", "run s.toml", ["s.toml", "scenario"], files={"s.toml": ""})
cli("validate_missing", "validate gone.toml", ["gone.toml"], files={})
cli("unknown_command", "simulate s.toml", ["simulate"])
cli("unknown_flag", "run s.toml --fast", ["--fast"])
cli("fit_no_format", "fit c.csv", ["--format"], files={"c.csv": CSV})
cli("fit_format_unknown", "fit c.csv --format json", ["--format", "json"], files={"c.csv": CSV})
cli("fit_csv_no_columns", "fit c.csv --format csv", ["--time-column"], files={"c.csv": CSV})
cli("fit_time_unit", "fit c.csv --format csv --time-column t --input-column in --output-column out --time-unit h", ["--time-unit", "h"], files={"c.csv": CSV})
cli("fit_interval", "fit c.csv --format csv --time-column t --input-column in --output-column out --interval 7", ["--interval", "3600"], files={"c.csv": CSV})
cli("fit_interval_zero", "fit c.csv --format csv --time-column t --input-column in --output-column out --interval 0", ["--interval"], files={"c.csv": CSV})
cli("fit_missing_trace", "fit gone.csv --format azure", ["gone.csv"], files={})
# fit skips unusable rows (and says how many); a trace with none left is refused.
cli("fit_no_usable_row", "fit a.csv --format azure", ["a.csv", "usable"], files={"a.csv": AZURE.replace(",520,", ",-520,").replace(",610,", ",-610,").replace(",930,", ",x,")})
cli("fit_jsonl_format_bad", "fit m.jsonl --format mooncake", ["m.jsonl", "usable"], files={"m.jsonl": "[1]\n{}\n"})
cli("fit_burstgpt_bad", "fit b.csv --format burstgpt", ["b.csv", "usable"], files={"b.csv": BURSTGPT.splitlines()[0] + "\n5,ChatGPT,x,1,1,API log\n"})
cli("fit_columns_on_azure", "fit a.csv --format azure --time-column t", ["--time-column"], files={"a.csv": AZURE})
cli("fit_empty_trace", "fit c.csv --format csv --time-column t --input-column in --output-column out", ["c.csv"], files={"c.csv": "t,in,out\n"})

# calibrate: measurement files (docs/calibrate.md). Malformed files name the file and the line or
# JSON path; too few measurements say how many there were.
LLMPERF_ROW = '{"error_code": null, "ttft_s": 0.4, "end_to_end_latency_s": 2.0, "number_input_tokens": 550, "number_output_tokens": 150}'
CAL_CSV = "ttft_ms,input_tokens\n" + "".join(f"{300 + i},{500 + 10 * i}\n" for i in range(40))
cli("calibrate_no_format", "calibrate r.json", ["--format"], files={"r.json": "[]"})
cli("calibrate_format_unknown", "calibrate r.json --format locust", ["--format", "locust", "llmperf"], files={"r.json": "[]"})
cli("calibrate_missing_file", "calibrate gone.json --format llmperf", ["gone.json"], files={})
cli("calibrate_llmperf_not_json", "calibrate r.json --format llmperf", ["r.json:2:", "JSON"], files={"r.json": "[\n{,}]"})
cli("calibrate_llmperf_summary", "calibrate r.json --format llmperf", ["r.json", "summary file"], files={"r.json": '{"num_concurrent_requests": 5}'})
cli("calibrate_llmperf_negative_ttft", "calibrate r.json --format llmperf", ["r.json", "[1].ttft_s", "-0.5"], files={"r.json": "[" + LLMPERF_ROW + "," + LLMPERF_ROW.replace('"ttft_s": 0.4', '"ttft_s": -0.5') + "]"})
cli("calibrate_llmperf_too_few", "calibrate r.json --format llmperf", ["r.json", "too few served requests", "20"], files={"r.json": "[" + ",".join([LLMPERF_ROW] * 12) + "]"})
cli("calibrate_csv_no_ttft", "calibrate r.csv --format csv", ["r.csv", "line 1", "ttft_ms"], files={"r.csv": "t,input_tokens\n1,2\n"})
cli("calibrate_csv_bad_status", "calibrate r.csv --format csv", ["r.csv", "line 3", "status", "ok"], files={"r.csv": "ttft_ms,input_tokens,status\n1,2,200\n1,2,ok\n"})
cli("calibrate_csv_bad_number", "calibrate r.csv --format csv", ["r.csv", "line 2", "ttft_ms", "fast"], files={"r.csv": "ttft_ms,input_tokens\nfast,2\n"})
cli("calibrate_guidellm_no_benchmarks", "calibrate g.json --format guidellm", ["g.json", "benchmarks"], files={"g.json": '{"runs": []}'})
cli("calibrate_guidellm_bad_yaml", "calibrate g.yaml --format guidellm", ["g.yaml", "YAML"], files={"g.yaml": "benchmarks: [\n  {a: 1\n"})
# GuideLLM statistics without per-request rows: its CSV report (one header row, GuideLLM 0.3) and
# a JSON benchmark whose TTFT statistics are malformed. Made-up numbers.
GUIDELLM_CSV_HEAD = 'Name,Successful Requests,Successful Request concurrency mean,Successful Time to first token ms median,"Successful Time to first token ms [min, 0.1, 1, 5, 10, 25, 75, 90, 95, 99, max]"\n'
GUIDELLM_CSV_ROW = 'synchronous,40,1.0,30.0,"[25.0, 25.0, 25.5, 26.0, 27.0, 28.0, 32.0, 35.0, 37.0, 41.0, 42.0]"\n'
GUIDELLM_STATS = '{"benchmarks": [{"metrics": {"time_to_first_token_ms": {"successful": {"median": 30.0, "count": 40, "percentiles": {"p10": 26.0, "p25": 28.0, "p75": 32.0, "p90": 35.0, "p95": 37.0, "p99": 41.0}}}}}]}'
cli("calibrate_guidellm_csv_missing_column", "calibrate g.csv --format guidellm", ["g.csv", "line 1", "Successful Time to first token ms median"], files={"g.csv": GUIDELLM_CSV_HEAD.replace("Successful Time to first token ms median", "ttft median") + GUIDELLM_CSV_ROW})
cli("calibrate_guidellm_csv_bad_number", "calibrate g.csv --format guidellm", ["g.csv", "line 3", "Successful Requests", "many"], files={"g.csv": GUIDELLM_CSV_HEAD + GUIDELLM_CSV_ROW + GUIDELLM_CSV_ROW.replace(",40,", ",many,")})
cli("calibrate_guidellm_csv_bad_percentiles", "calibrate g.csv --format guidellm", ["g.csv", "line 2", "list of 11 numbers"], files={"g.csv": GUIDELLM_CSV_HEAD + GUIDELLM_CSV_ROW.replace("[25.0, 25.0, ", "[25.0, ")})
cli("calibrate_guidellm_stats_bad_percentile", "calibrate g.json --format guidellm", ["g.json", "benchmarks[0].metrics.time_to_first_token_ms.successful.percentiles.p90", "slow"], files={"g.json": GUIDELLM_STATS.replace('"p90": 35.0', '"p90": "slow"')})
cli("calibrate_guidellm_stats_missing_percentile", "calibrate g.json --format guidellm", ["g.json", "percentiles.p95", "p10, p25, p75, p90, p95 and p99"], files={"g.json": GUIDELLM_STATS.replace('"p95": 37.0, ', '')})
cli("calibrate_guidellm_stats_too_few", "calibrate g.json --format guidellm", ["g.json", "too few served requests", "12", "20"], files={"g.json": GUIDELLM_STATS.replace('"count": 40', '"count": 12')})
cli("calibrate_azure_no_stats", "calibrate a.log --format azure-benchmark", ["a.log", "no statistics lines"], files={"a.log": "hello\n"})
cli("calibrate_azure_bad_value", "calibrate a.log --format azure-benchmark", ["a.log", "line 1", "ttft_avg", "fast"], files={"a.log": "2026-03-02 10:12:49 INFO rpm: 8.0 processing: 2 completed: 0 failures: 0 throttled: 0 requests: 0 tpm: 0 ttft_avg: fast ttft_95th: n/a\n"})
cli("calibrate_holdout_too_big", "calibrate r.csv --format csv --holdout 0.9", ["--holdout", "0.9"], files={"r.csv": CAL_CSV})
cli("calibrate_holdout_negative", "calibrate r.csv --format csv --holdout -0.1", ["--holdout", "-0.1"], files={"r.csv": CAL_CSV})
cli("calibrate_units_zero", "calibrate r.csv --format csv --units 0", ["--units", "0"], files={"r.csv": CAL_CSV})
cli("calibrate_output_weight", "calibrate r.csv --format csv --output-weight 0", ["--output-weight"], files={"r.csv": CAL_CSV})
cli("pick_missing", "pick gone.toml", ["gone.toml"], files={})
cli("diff_top_negative", "diff A B --top -1", ["--top"], files={})

# ---------------------------------------------------------------------------------------------
# sweep / plan options on the command line.
# ---------------------------------------------------------------------------------------------
def opt(name, cmd, expect, base=BASE):
    case("option_" + name, cmd, ["s.toml"] + expect if "s.toml" not in expect else expect, {"s.toml": base})
K = "--key deployment.ptu.reserved.units"
case("option_plan_ladder_with_shard", "plan s.toml --sla p99<=1s --ladder --shard 0/2", ["--shard"], {"s.toml": BASE})
case("option_sweep_no_key", "sweep s.toml", ["s.toml", "sweep", "--key"], {"s.toml": BASE})
case("option_key_unknown", "sweep s.toml --key deployment.ptu.reserved.unitz --values 15,20", ["--key", "unitz"], {"s.toml": BASE})
case("option_key_class_unknown", "sweep s.toml --key class.nope.arrivals.mean_rps --values 1,2", ["--key", "nope"], {"s.toml": BASE})
case("option_key_no_values", f"sweep s.toml {K}", ["--values"], {"s.toml": BASE})
case("option_values_text", f"sweep s.toml {K} --values 15,abc", ["--values", "abc"], {"s.toml": BASE})
case("option_values_nan", f"sweep s.toml {K} --values 15,NaN", ["--values"], {"s.toml": BASE})
case("option_values_and_range", f"sweep s.toml {K} --values 15 --from 15 --to 20 --step 5", ["--values"], {"s.toml": BASE})
case("option_from_after_to", f"sweep s.toml {K} --from 30 --to 15 --step 5", ["--to", "from = 30", "got 15"], {"s.toml": BASE})
case("option_step_zero", f"sweep s.toml {K} --from 15 --to 30 --step 0", ["--step"], {"s.toml": BASE})
case("option_step_negative", f"sweep s.toml {K} --from 15 --to 30 --step -5", ["--step"], {"s.toml": BASE})
case("option_points_zero", f"sweep s.toml {K} --from 15 --to 30 --points 0", ["--points"], {"s.toml": BASE})
case("option_sweep_work_too_many", "sweep s.toml --key class.chat.arrivals.mean_rps --from 0.5 --to 1.5 --points 10000 --replications 10000", ["--values", "10,000 points", "100,000,000"], {"s.toml": BASE})
case("option_points_many", f"sweep s.toml {K} --from 15 --to 30 --points 10001", ["--points", "10000"], {"s.toml": BASE})
case("option_step_many", f"sweep s.toml {K} --from 15 --to 1000000 --step 5", ["--step", "10000"], {"s.toml": BASE})
case("option_range_no_step", f"sweep s.toml {K} --from 15 --to 30", ["--step", "points"], {"s.toml": BASE})
case("option_compare_unknown", f"sweep s.toml {K} --values 15,20 --compare nope", ["--compare", "nope"], {"s.toml": BASE})
case("option_compare_reserved", f"sweep s.toml {K} --values 15,20 --compare ptu", ["--compare", "ptu"], {"s.toml": BASE})
case("option_point_off_step", f"sweep s.toml {K} --values 15,16", ["units", "16"], {"s.toml": BASE})
case("option_point_rate_zero", "sweep s.toml --key class.chat.arrivals.mean_rps --values 1,0", ["mean_rps", "got 0"], {"s.toml": BASE})
case("option_demand_scale_zero", "sweep s.toml --key demand_scale --values 1,0", ["demand_scale", "0"], {"s.toml": BASE})
case("option_sla_no_time", 'plan s.toml --sla p99', ["--sla", "p99"], {"s.toml": BASE})
case("option_sla_words", 'plan s.toml --sla "quick please"', ["--sla", "quick please"], {"s.toml": BASE})
case("option_sla_percentile", 'plan s.toml --sla "p0<=1s"', ["--sla", "p0"], {"s.toml": BASE})
case("option_sla_unit", 'plan s.toml --sla "p99<=1h"', ["--sla", "1h"], {"s.toml": BASE})
case("option_deployment_unknown", "plan s.toml --deployment nope", ["--deployment", "nope"], {"s.toml": BASE})
case("option_deployment_on_demand", "plan s.toml --deployment paygo", ["--deployment", "paygo"], {"s.toml": BASE})
case("option_terms_unknown", "plan s.toml --terms weekly", ["--terms", "weekly"], {"s.toml": BASE})
case("option_terms_not_priced", "plan s.toml --terms yearly", ["--terms", "yearly"], {"s.toml": BASE})
case("option_max_units_zero", "plan s.toml --max-units 0", ["--max-units"], {"s.toml": BASE})
case("option_max_units_huge", "plan s.toml --max-units 4294967295", ["--max-units", "10000000"], {"s.toml": BASE})
case("option_max_units_text", "plan s.toml --max-units many", ["--max-units", "many"], {"s.toml": BASE})
case("option_plan_no_sla", "plan s.toml", ["sla"], {"s.toml": BASE.replace("sla = { ttft_ms = 1500, percentile = 99 }\n", "")})
case("option_plan_no_reserved", "plan s.toml --sla p99<=1s", ["reserved"], {"s.toml": BASE.replace('route = ["ptu", "paygo"]', 'route = ["paygo"]').replace(BASE[BASE.index('[[deployment]]\nname = "ptu"'):BASE.index('[[deployment]]\nname = "paygo"')], "")})

# ---------------------------------------------------------------------------------------------
# diff folders.
# ---------------------------------------------------------------------------------------------
RUN_A = "run s.toml --out A --quiet"
RUN_B = "run s.toml --out B --quiet --seed 8"
def diff(name, expect, setup=(RUN_A, RUN_B), remove=(), after=None, cmd="diff A B", files=None, truncate=()):
    case("diff_" + name, cmd, expect, files if files is not None else {"s.toml": BASE}, setup=setup, remove=remove, after=after, truncate=truncate)
diff("a_missing", ["A", "no such folder"], setup=(RUN_B,))
diff("b_missing", ["B", "no such folder"], setup=(RUN_A,))
diff("a_is_file", ["A", "a file"], setup=(RUN_B,), files={"s.toml": BASE, "A": "x"})
diff("a_empty_folder", ["A", "summary.json"], setup=(RUN_B,), files={"s.toml": BASE, "A/.keep": ""})
diff("a_summary_missing", ["A", "summary.json"], remove=("A/summary.json",))
diff("b_summary_not_json", ["B/summary.json", "JSON"], after={"B/summary.json": "{ nope"})
diff("b_summary_no_manifest", ["B", "manifest"], after={"B/summary.json": "{}"})
diff("a_hourly_missing", ["A/hourly.csv"], remove=("A/hourly.csv",))
diff("b_hourly_missing", ["B/hourly.csv"], remove=("B/hourly.csv",))
diff("b_hourly_header_only", ["B/hourly.csv"], after={"B/hourly.csv": "hour,deployment\n"})
HOURLY_HEADER = "hour,day,hour_of_day,weekday,deployment,platform,pool,requests,input_tokens,output_tokens,cost_on_demand_usd,cost_reserved_usd,cost_total_usd,reserved_utilization,rejected_429,spilled_429,errors\n"
diff("b_hourly_bad_number", ["B/hourly.csv", "line 3", "cost_total_usd"], after={"B/hourly.csv": HOURLY_HEADER
     + "0,0,0,monday,ptu,azure-openai,reserved,3000.0,2400000.0,600000.0,0.0000,5.3430,5.3430,0.500000,0.00,0.00,0.00\n"
     + "0,0,0,monday,paygo,azure-openai,on_demand,10.0,8000.0,2000.0,0.0400,0.0000,abc,,0.00,0.00,0.00\n"})
diff("b_hourly_truncated", ["B/hourly.csv"], truncate=("B/hourly.csv 200",))
diff("a_focus_truncated", ["A/focus.csv"], truncate=("A/focus.csv 1500",))
# Cut at a line boundary: every row parses, only the totals show what is missing.
diff("b_hourly_cut_at_line", ["B/hourly.csv", "truncated"], truncate=("B/hourly.csv 2 lines",))
diff("b_focus_cut_at_line", ["B/focus.csv", "truncated"], truncate=("B/focus.csv 3 lines",))
diff("a_cost_by_tag_cut_at_line", ["A/cost_by_tag.csv", "truncated"], truncate=("A/cost_by_tag.csv 4 lines",))
diff("b_attribution_header_only", ["B/attribution.csv", "team", "truncated"], truncate=("B/attribution.csv 1 lines",))
diff("b_hourly_unknown_deployment", ["B/hourly.csv", "line 2", "nope"], after={"B/hourly.csv": HOURLY_HEADER
     + "0,0,0,monday,nope,azure-openai,reserved,3000.0,2400000.0,600000.0,0.0000,5.3430,5.3430,0.500000,0.00,0.00,0.00\n"})
diff("a_focus_missing", ["A/focus.csv"], remove=("A/focus.csv",))
diff("b_focus_garbage", ["B/focus.csv"], after={"B/focus.csv": "a,b\n1,2\n"})
diff("a_attribution_garbage", ["A/attribution.csv"], after={"A/attribution.csv": "x\n\"unterminated\n"})
diff("a_is_sweep", ["A", "sweep"], setup=("sweep s.toml --key deployment.ptu.reserved.units --values 15,20 --out A --quiet", RUN_B))


# ---------------------------------------------------------------------------------------------
# Shards (`--shard I/N`) and `llmcap merge`.
# ---------------------------------------------------------------------------------------------
SW = "sweep s.toml --key deployment.ptu.reserved.units --values 15,20,25 --replications 2 --quiet"
def shard(name, cmd, expect, setup=(), files=None, after=None):
    case("shard_" + name, cmd, expect, files if files is not None else {"s.toml": BASE}, setup=setup, after=after)
shard("index_past_count", f"{SW} --shard 3/2", ["--shard", "3/2", "does not exist"])
shard("count_zero", f"{SW} --shard 0/0", ["--shard", "0/0", "1 to"])
shard("no_count", f"{SW} --shard 1", ["--shard", "I/N"])
shard("negative", f"{SW} --shard -1/2", ["--shard", "whole number"])
shard("auto_outside_an_engine", f"{SW} --shard auto", ["--shard", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"])
S0 = f"{SW} --shard 0/3 --out S0"
S1 = f"{SW} --shard 1/3 --out S1"
S2 = f"{SW} --shard 2/3 --out S2"
shard("merge_missing_shard", "merge S0 S2", ["S0/shard-0-of-3.json.gz", "missing: 1/3"], setup=(S0, S2))
shard("merge_duplicate_shard", "merge S0 S1 S2 D1", ["D1/shard-1-of-3.json.gz", "given twice", "S1/shard-1-of-3.json.gz"],
      setup=(S0, S1, S2, f"{SW} --shard 1/3 --out D1"))
shard("merge_same_file_twice", "merge S0 S1 S2 S1/shard-1-of-3.json.gz", ["S1/shard-1-of-3.json.gz", "given twice"], setup=(S0, S1, S2))
shard("merge_different_seed", "merge S0 S1 X2", ["X2/shard-2-of-3.json.gz", "manifest.seed", "seed 8"],
      setup=(S0, S1, f"{SW} --shard 2/3 --out X2 --seed 8"))
shard("merge_different_scenario", "merge S0 S1 X2", ["X2/shard-2-of-3.json.gz", "scenario_sha256"],
      setup=(S0, S1, f"{SW.replace('s.toml', 't.toml')} --shard 2/3 --out X2"),
      files={"s.toml": BASE, "t.toml": BASE.replace('seed = 7', 'seed = 7\n# another scenario')})
shard("merge_different_values", "merge S0 S1 X2", ["X2/shard-2-of-3.json.gz", "manifest.work"],
      setup=(S0, S1, f"{SW.replace('15,20,25', '15,20,30')} --shard 2/3 --out X2"))
shard("merge_different_count", "merge S0 S1 S2 T1", ["T1/shard-1-of-2.json.gz", "manifest.shard", "3 shards"],
      setup=(S0, S1, S2, f"{SW} --shard 1/2 --out T1"))
shard("merge_not_a_shard", "merge S0 S1 junk.json.gz", ["junk.json.gz", "not a shard file"], setup=(S0, S1), files={"s.toml": BASE, "junk.json.gz": "not gzip"})
shard("merge_folder_without_shards", "merge S0 S1 empty", ["empty", "no shard file", "subfolders"], setup=(S0, S1), files={"s.toml": BASE, "empty/notes.txt": "x"})
shard("merge_missing_file", "merge S0 gone.json.gz", ["gone.json.gz", "cannot read"], setup=(S0,))
shard("merge_nothing", "merge", ["SHARDS"])

# [deployment.reserved_rate]: a token-rate reservation on the on-demand deployment (docs/model.md 10.3).
RR = 'reserved_rate = { input_tpm = 30000, output_tpm = 5000, min_input_tpm = 30000, input_tpm_step = 30000, term = "1-month", input_per_1k_tpm_hour = { "1-month" = 0.2 }, output_per_1k_tpm_hour = { "1-month" = 0.5 } }'
RATE_BASE = edit(P, P + "\n" + RR)
def rate(name, old, new, expect, cmd="run s.toml"):
    """A token-rate reservation case: RATE_BASE with `old` in the reservation replaced by `new`."""
    assert RR.count(old) == 1, old
    case("scenario_reserved_rate_" + name, cmd, ["s.toml"] + list(expect), {"s.toml": RATE_BASE.replace(RR, RR.replace(old, new))})
rate("both_shapes", "{ input_tpm = 30000,", "{ input_tpm = 30000, usd_per_minute = 2,", ["deployment[1].reserved_rate.usd_per_minute", "not both"])
rate("no_rate", "input_tpm = 30000, output_tpm = 5000, min_input_tpm = 30000, input_tpm_step = 30000, ", "", ["deployment[1].reserved_rate", "input_tpm and output_tpm", "usd_per_minute"])
rate("input_negative", "{ input_tpm = 30000,", "{ input_tpm = -30000,", ["deployment[1].reserved_rate.input_tpm", "-30000"])
rate("off_step", "{ input_tpm = 30000,", "{ input_tpm = 45000,", ["deployment[1].reserved_rate.input_tpm", "input_tpm_step = 30000", "45000"])
rate("below_min", "{ input_tpm = 30000,", "{ input_tpm = 30000, min_output_tpm = 10000,", ["deployment[1].reserved_rate.output_tpm", "min_output_tpm = 10000", "5000"])
rate("both_zero", "{ input_tpm = 30000, output_tpm = 5000, min_input_tpm = 30000,", "{ input_tpm = 0, output_tpm = 0, min_input_tpm = 30000,", ["deployment[1].reserved_rate.input_tpm", "both 0"])
rate("term_not_priced", 'term = "1-month"', 'term = "3-month"', ["deployment[1].reserved_rate.term", "3-month", "priced terms: 1-month"])
rate("price_one_side", 'input_per_1k_tpm_hour = { "1-month" = 0.2 }', 'input_per_1k_tpm_hour = { "1-month" = 0.2, "3-month" = 0.18 }', ["deployment[1].reserved_rate.input_per_1k_tpm_hour.3-month", "both"])
rate("price_negative", '"1-month" = 0.5', '"1-month" = -0.5', ["deployment[1].reserved_rate.output_per_1k_tpm_hour.1-month", "-0.5"])
rate("term_hours_unknown", '{ "1-month" = 0.2 }, output_per_1k_tpm_hour = { "1-month" = 0.5 }', '{ "1-month" = 0.2, "2-week" = 0.25 }, output_per_1k_tpm_hour = { "1-month" = 0.5, "2-week" = 0.6 }', ["deployment[1].reserved_rate.term_hours", "2-week", "1-month"])
rate("term_hours_negative", 'term = "1-month"', 'term = "1-month", term_hours = { "1-month" = -730 }', ["deployment[1].reserved_rate.term_hours.1-month", "-730"])
rate("spend_with_token_price", "input_tpm = 30000, output_tpm = 5000, min_input_tpm = 30000, input_tpm_step = 30000,", "usd_per_minute = 2,", ["deployment[1].reserved_rate.input_per_1k_tpm_hour", "price_per_reserved_usd"])
rate("spend_zero", "input_tpm = 30000, output_tpm = 5000, min_input_tpm = 30000, input_tpm_step = 30000, term = \"1-month\", input_per_1k_tpm_hour = { \"1-month\" = 0.2 }, output_per_1k_tpm_hour = { \"1-month\" = 0.5 }", "usd_per_minute = 0, term = \"1-month\", price_per_reserved_usd = { \"1-month\" = 1.0 }", ["deployment[1].reserved_rate.usd_per_minute", "0"])
rate("spend_with_step", "input_tpm = 30000, output_tpm = 5000, min_input_tpm = 30000, input_tpm_step = 30000, term = \"1-month\", input_per_1k_tpm_hour = { \"1-month\" = 0.2 }, output_per_1k_tpm_hour = { \"1-month\" = 0.5 }", "usd_per_minute = 2, input_tpm_step = 1000, term = \"1-month\", price_per_reserved_usd = { \"1-month\" = 1.0 }", ["deployment[1].reserved_rate.input_tpm_step", "usd_per_minute"])
rate("unknown_key", "{ input_tpm = 30000,", "{ input_tpm = 30000, burst_tpm = 10,", ["deployment[1].reserved_rate", "unknown field `burst_tpm`"])
rate("term_missing", 'term = "1-month", ', "", ["deployment[1]", "missing field `term`"])
scen("reserved_rate_on_reserved_units", R, R + "\n" + RR.replace("5000", "5000", 1), ["deployment[0].reserved_rate", "[deployment.on_demand]"])
OA = 'name = "paygo"\nplatform = "azure-openai"\nmodel = "gpt-4o"'
case("scenario_reserved_rate_offering_not_sold", "run s.toml", ["s.toml", "deployment[1].reserved_rate", "sells no token-rate reservation", "openai/gpt-4o/standard"],
     {"s.toml": RATE_BASE.replace(OA, 'name = "paygo"\noffering = "azure-openai/gpt-4o/global-standard"').replace('platform = "azure-openai"\nmodel = "gpt-4o"\nlatency = { median_ms = 300', 'platform = "azure-openai"\nmodel = "gpt-4o"\nlatency = { median_ms = 300')})
case("scenario_reserved_rate_offering_term", "run s.toml", ["s.toml", "deployment[0].reserved_rate.term", "30-day (720 h)", "1-month"],
     {"s.toml": edit(BASE[BASE.index('[[deployment]]\nname = "ptu"'):], '[[deployment]]\nname = "paygo"\noffering = "openai/gpt-4o/standard"\nreserved_rate = { input_tpm = 30000, output_tpm = 2500, term = "1-month" }\n').replace('route = ["ptu", "paygo"]', 'route = ["paygo"]')})
# [frontier] reserved_rate: the reservation sizes a frontier tries (docs/scenario.md [frontier]),
# each checked against the deployment's reservation before any work.
def rate_frontier(name, table, expect):
    """A frontier case: RATE_BASE with a [frontier] table."""
    case("cli_frontier_reserved_rate_" + name, "frontier s.toml", ["s.toml"] + list(expect), {"s.toml": RATE_BASE + "\n[frontier]\n" + table + "\n"})
rate_frontier("below_min", 'reserved_rate = { paygo = ["none", { input_tpm = 15000, output_tpm = 5000 }] }', ["frontier.reserved_rate.paygo[1]", "min_input_tpm = 30000", "15000"])
rate_frontier("off_step", 'reserved_rate = { paygo = [{ input_tpm = 45000, output_tpm = 5000 }] }', ["frontier.reserved_rate.paygo[0]", "input_tpm_step = 30000", "45000"])
rate_frontier("no_reservation", 'reserved_rate = { ptu = ["none"] }', ["frontier.reserved_rate.ptu", "not a deployment with a token-rate reservation", "paygo"])
rate_frontier("empty", 'reserved_rate = { paygo = [] }', ["frontier.reserved_rate.paygo", "at least one size", "none"])
rate_frontier("wrong_measure", 'reserved_rate = { paygo = [{ usd_per_minute = 2 }] }', ["frontier.reserved_rate.paygo[0]", "tokens per minute", "input_tpm"])
rate_frontier("not_a_size", 'reserved_rate = { paygo = ["half"] }', ["frontier.reserved_rate.paygo[0]", "\"none\"", "half"])
rate_frontier("unknown_key", 'reserved_rate = { paygo = [{ input_tpm = 30000, burst_tpm = 10 }] }', ["frontier.reserved_rate.paygo[0].burst_tpm", "not a size key"])
rate_frontier("twice", 'reserved_rate = { paygo = [{ input_tpm = 30000 }, { input_tpm = 30000, output_tpm = 0 }] }', ["frontier.reserved_rate.paygo[1]", "same size"])
rate_frontier("both_zero", 'reserved_rate = { paygo = [{ input_tpm = 0, output_tpm = 0 }] }', ["frontier.reserved_rate.paygo[0].input_tpm", "both 0", "none"])
rate_frontier("term_not_priced", 'reserved_rate = { paygo = ["none", { input_tpm = 30000, output_tpm = 5000 }] }\nterms = { paygo = ["3-month"] }', ["frontier.terms.paygo[0]", "3-month", "priced terms: 1-month"])
# 100 unit counts x 101 reservation sizes: 10,100 configurations, past the 10,000 allowed.
rate_frontier("too_many", "units = { ptu = [" + ", ".join(str(15 + 5 * k) for k in range(100)) + "] }\nreserved_rate = { paygo = [" + ", ".join("{ input_tpm = %d, output_tpm = 5000 }" % (30000 * (k + 1)) for k in range(101)) + "] }", ["frontier.units", "10,100 configurations", "at most 10,000", "reservation sizes"])
rate_frontier("terms_without_sizes", 'terms = { paygo = ["1-month"] }', ["frontier.terms.paygo", "not a reserved deployment", "reserved_rate"])
# A [[price_change]] of the reservation's prices.
def rate_pc(name, table, expect, base=RATE_BASE):
    body = base.replace('seed = 7', 'seed = 7\nstart_date = "2027-01-04"') + '\n[[price_change]]\ndate = "2027-01-05"\ndeployment = "paygo"\n' + table + '\n'
    case("scenario_price_change_reserved_rate_" + name, "validate s.toml", ["s.toml"] + list(expect), {"s.toml": body.replace("horizon_hours = 2", "horizon_hours = 48")})
rate_pc("no_reservation", 'reserved_rate = { input_per_1k_tpm_hour = { "1-month" = 0.1 } }', ["price_change[0].reserved_rate", "no [deployment.reserved_rate]"], base=BASE)
rate_pc("term_unknown", 'reserved_rate = { input_per_1k_tpm_hour = { "3-month" = 0.1 } }', ["price_change[0].reserved_rate.input_per_1k_tpm_hour.3-month", "1-month"])
rate_pc("wrong_measure", 'reserved_rate = { price_per_reserved_usd = { "1-month" = 0.9 } }', ["price_change[0].reserved_rate.price_per_reserved_usd", "input_per_1k_tpm_hour"])
rate_pc("negative", 'reserved_rate = { output_per_1k_tpm_hour = { "1-month" = -1 } }', ["price_change[0].reserved_rate.output_per_1k_tpm_hour.1-month", "-1"])
rate_pc("empty", 'reserved_rate = { }', ["price_change[0].reserved_rate", "sets no price"])
# sweep bills a reservation in every point, but its break-even cannot value tokens at the list
# prices of a deployment whose tokens are partly covered: paygo is the pair's compare deployment.
case("cli_sweep_reserved_rate_compare_refused", "sweep s.toml --key deployment.ptu.reserved.units --values 15,20",
     ["s.toml", "deployment[1].reserved_rate", "break-even", "compare"], {"s.toml": RATE_BASE})
# plan sizes one reservation at a time: named (or the only one), a token-rate reservation in the
# vendor's steps (docs/model.md 12.4.3); reserved units next to one are refused.
case("cli_plan_reserved_rate_which", 'plan s.toml --sla "p99<=1s"', ["s.toml", "plan.deployment", "more than one reservation", '"paygo"', '"ptu"', "--deployment"], {"s.toml": RATE_BASE})
case("cli_plan_units_next_to_reserved_rate", 'plan s.toml --deployment ptu --sla "p99<=1s"', ["s.toml", "deployment[1].reserved_rate", "llmcap plan sizes reserved units here", "--deployment paygo"], {"s.toml": RATE_BASE})
case("cli_plan_reserved_rate_max_units", 'plan s.toml --deployment paygo --max-units 30 --sla "p99<=1s"', ["--max-units", "token-rate reservation", "min_*_tpm", "30"], {"s.toml": RATE_BASE})
case("cli_plan_reserved_rate_term", 'plan s.toml --deployment paygo --terms 3-month --sla "p99<=1s"', ["--terms", '"3-month"', "paygo", "it prices: 1-month"], {"s.toml": RATE_BASE})
case("cli_plan_reserved_rate_shard", 'plan s.toml --deployment paygo --shard 0/2 --sla "p99<=1s"', ["--shard", "s.toml", "paygo", "one process"], {"s.toml": RATE_BASE})
case("scenario_plan_reserved_rate_max_units", "validate s.toml", ["s.toml", "plan.max_units", "token-rate reservation", "20"],
     {"s.toml": RATE_BASE + '\n[plan]\ndeployment = "paygo"\nmax_units = 20\n'})
# plan --ladder buys one reservation at a time too: a token-rate one month by month (12.4.1),
# named or the only one; reserved units next to one are refused, and so is max_units for it.
case("cli_ladder_reserved_rate_which", 'plan s.toml --ladder --sla "p99<=1s" --months 12', ["s.toml", "plan.deployment", "more than one reservation", '"paygo"', '"ptu"', "--deployment"], {"s.toml": RATE_BASE})
case("cli_ladder_units_next_to_reserved_rate", 'plan s.toml --ladder --deployment ptu --sla "p99<=1s" --months 12', ["s.toml", "deployment[1].reserved_rate", "llmcap plan --ladder sizes reserved units here", "--deployment paygo"], {"s.toml": RATE_BASE})
case("cli_ladder_reserved_rate_max_units", 'plan s.toml --ladder --deployment paygo --max-units 30 --sla "p99<=1s" --months 12', ["--max-units", "token-rate reservation", "min_*_tpm", "30"], {"s.toml": RATE_BASE})

def main():
    if os.path.isdir(OUT):
        for f in os.listdir(OUT):
            if f.endswith(".case"):
                os.remove(os.path.join(OUT, f))
    os.makedirs(OUT, exist_ok=True)
    for name, body in sorted(cases.items()):
        with open(os.path.join(OUT, name + ".case"), "w") as f:
            f.write(body)
    print(f"{len(cases)} cases in {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
