//! `llmcap plan` sizing a token-rate reservation (and `frontier` billing one and trying its sizes): the sizes a small deterministic case must pick by hand, the recommended bill equal to `run` of it, the frontier's rows of each size by hand and equal to `run`, the shipped scenario.

use std::path::Path;

use crate::common::{command_ok, read_json, write};

/// Two hours of one request a second, evenly spaced, 1,000 tokens in and 100 out (list price
/// $3 / $15 per 1M: $0.0045 a request on `tok`; $2.50 / $10: $0.0035 on `usd`). `tok` is sold
/// from 20,000 input TPM in steps of 7,000 and from 2,000 output TPM in steps of 1,500, at
/// $0.05 / $0.20 per 1,000 TPM-hour on 1-month and $0.04 / $0.18 on 3-month; `usd` reserves
/// spend at $0.80 per reserved USD. `tok_rate` and `usd_rate` are the sizes written.
fn scenario(tok_rate: &str, usd_rate: &str, extra: &str) -> String {
    format!(
        r#"
[scenario]
name = "rate"
horizon_hours = 2
seed = 5
start_date = "2027-01-04"

[[class]]
name = "a"
model = "m"
route = ["tok"]
sla = {{ ttft_ms = 1000, percentile = 99 }}
arrivals = {{ process = "deterministic", mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}

[[class]]
name = "b"
model = "m"
route = ["usd"]
arrivals = {{ process = "deterministic", mean_rps = 1.0 }}
input_tokens = {{ dist = "fixed", value = 1000 }}
output_tokens = {{ dist = "fixed", value = 100 }}

[[deployment]]
name = "tok"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 3.0, output_per_1m = 15.0 }}
reserved_rate = {{ {tok_rate}, min_input_tpm = 20000, input_tpm_step = 7000, min_output_tpm = 2000, output_tpm_step = 1500, input_per_1k_tpm_hour = {{ "1-month" = 0.05, "3-month" = 0.04 }}, output_per_1k_tpm_hour = {{ "1-month" = 0.2, "3-month" = 0.18 }}, term_hours = {{ "3-month" = 2190 }} }}

[[deployment]]
name = "usd"
platform = "custom"
model = "m"
latency = {{ median_ms = 200, p99_ms = 200 }}
on_demand = {{ input_per_1m = 2.5, output_per_1m = 10.0 }}
reserved_rate = {{ {usd_rate}, price_per_reserved_usd = {{ monthly = 0.8 }} }}
{extra}
"#
    )
}

const TOK: &str = r#"input_tpm = 27000, output_tpm = 3500, term = "1-month""#;
const USD: &str = r#"usd_per_minute = 0.07, term = "monthly""#;

fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want.abs().max(1e-12),
        "{what}: got {got}, want {want}"
    );
}

fn plan(dir: &Path, text: &str, args: &[&str]) -> serde_json::Value {
    let sc = write(dir, "rate.toml", text);
    let out = dir.join("plan");
    let _ = std::fs::remove_dir_all(&out);
    command_ok("plan", &sc, &out, args);
    read_json(&out.join("plan.json"))
}

/// `run` of `text`: summary.json's mean total bill.
fn run_bill(dir: &Path, text: &str) -> f64 {
    let sc = write(dir, "chosen.toml", text);
    let out = dir.join("run");
    let _ = std::fs::remove_dir_all(&out);
    command_ok("run", &sc, &out, &[]);
    read_json(&out.join("summary.json"))["cost"]["total_usd"]["mean"]
        .as_f64()
        .unwrap()
}

#[test]
fn a_token_reservation_is_sized_in_the_vendors_steps_as_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let p = plan(
        tmp.path(),
        &scenario(TOK, USD, ""),
        &["--deployment", "tok"],
    );
    // By hand: every minute has 60 requests (60,000 input, 6,000 output tokens). Covering one
    // more request a minute saves 60 x $0.0045 = $0.27 an hour of overflow and costs 1,000 input
    // + 100 output TPM = $0.05 + $0.02 = $0.07 an hour (1-month), so the whole minute is worth
    // covering: the smallest sizes sold at or above it are 20,000 + 6 x 7,000 = 62,000 input and
    // 2,000 + 3 x 1,500 = 6,500 output TPM. One step less on either side leaves requests out
    // (55,000: 55 a minute; 5,000: 50 a minute), one more covers nothing more. The 3-month term
    // is cheaper: 62 x $0.04 + 6.5 x $0.18 = $3.65 an hour (1-month: $4.40), $7.30 for 2 h,
    // nothing overflowing. No reservation: 2 h x 3,600 x $0.0045 = $32.40.
    let c = &p["chosen"];
    assert_eq!(c["term"], "3-month", "{c}");
    assert_eq!(c["input_tpm"].as_f64(), Some(62000.0), "{c}");
    assert_eq!(c["output_tpm"].as_f64(), Some(6500.0), "{c}");
    close(
        "commitment",
        c["commitment_usd"]["3-month"].as_f64().unwrap(),
        7.30,
        1e-9,
    );
    close("overflow", c["overflow_usd"].as_f64().unwrap(), 0.0, 1e-9);
    close(
        "input used",
        c["utilization_input"].as_f64().unwrap(),
        60.0 / 62.0,
        1e-3,
    );
    // What is signed: $3.65 x 2,190 h.
    close(
        "signed",
        c["term_commitment_usd"].as_f64().unwrap(),
        3.65 * 2190.0,
        1e-9,
    );
    // The margins: one input step less (55,000) covers 55 requests a minute, so 5 a minute
    // overflow (4 in the first minute, which has 59): 599 x $0.0045 = $2.6955, for 2 h x 7 x
    // $0.04 = $0.56 less commitment; one output step less (5,000) covers 50: 1,199 x $0.0045 =
    // $5.3955 for 2 x 1.5 x $0.18 = $0.54 less; one step more adds commitment only.
    let margin = |side: &str, dir: i64| {
        c["margins"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["side"] == side && m["direction"].as_i64() == Some(dir))
            .unwrap_or_else(|| panic!("{side} {dir}: {c}"))
            .clone()
    };
    let m = margin("input", -1);
    close(
        "input -1 saved",
        m["extra_commitment_usd"].as_f64().unwrap(),
        -0.56,
        1e-9,
    );
    close(
        "input -1 overflow",
        m["overflow_saved_usd"].as_f64().unwrap(),
        -2.6955,
        1e-9,
    );
    let m = margin("output", -1);
    close(
        "output -1 saved",
        m["extra_commitment_usd"].as_f64().unwrap(),
        -0.54,
        1e-9,
    );
    close(
        "output -1 overflow",
        m["overflow_saved_usd"].as_f64().unwrap(),
        -5.3955,
        1e-9,
    );
    let m = margin("input", 1);
    close(
        "input +1",
        m["extra_commitment_usd"].as_f64().unwrap(),
        0.56,
        1e-9,
    );
    close(
        "input +1 saves",
        m["overflow_saved_usd"].as_f64().unwrap(),
        0.0,
        1e-9,
    );
    // No reservation on `tok` (`usd` is billed as written in every configuration, the same).
    let none = &p["no_reservation"];
    close(
        "no reservation overflow",
        none["overflow_usd"].as_f64().unwrap(),
        32.40,
        2e-4,
    );
    // The recommended configuration's bill is what `run` bills it, exactly.
    let chosen = scenario(
        r#"input_tpm = 62000, output_tpm = 6500, term = "3-month""#,
        USD,
        "",
    );
    close(
        "run of the recommendation",
        run_bill(tmp.path(), &chosen),
        c["bill_usd"].as_f64().unwrap(),
        1e-9,
    );
    let md = std::fs::read_to_string(tmp.path().join("plan/plan.md")).unwrap();
    assert!(
        md.contains(
            "Reserve **62,000 input / 6,500 output TPM** on the **`3-month`** term for `tok`"
        ),
        "{md}"
    );
    assert!(
        md.contains("one input step less (55,000 input TPM)"),
        "{md}"
    );
    let csv = std::fs::read_to_string(tmp.path().join("plan/plan.csv")).unwrap();
    assert!(
        csv.lines()
            .any(|l| l.starts_with("62000,6500,,3-month,true,")),
        "{csv}"
    );
}

#[test]
fn a_spend_reservation_is_sized_in_round_steps_as_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let p = plan(
        tmp.path(),
        &scenario(TOK, USD, ""),
        &["--deployment", "usd"],
    );
    // By hand: a request is worth $0.0035 at list price and costs $0.0028 covered (0.8 per
    // reserved USD), so the whole minute is worth covering: 60 x $0.0035 = $0.21 a minute. The
    // busiest minute's list value is $0.21; the search's step is the round number at or above
    // 1/200 of it ($0.00105): $0.002, and $0.21 is a size. Its commitment: $0.21 x 60 x 0.8 =
    // $10.08 an hour, $20.16 for 2 h, nothing overflowing. One step less ($0.208) leaves one
    // request a minute out: $0.42 of overflow for $0.192 less commitment.
    let c = &p["chosen"];
    assert_eq!(c["term"], "monthly", "{c}");
    close("spend", c["usd_per_minute"].as_f64().unwrap(), 0.21, 1e-12);
    close(
        "commitment",
        c["commitment_usd"]["monthly"].as_f64().unwrap(),
        20.16,
        1e-9,
    );
    close("overflow", c["overflow_usd"].as_f64().unwrap(), 0.0, 1e-9);
    let chosen = scenario(TOK, r#"usd_per_minute = 0.21, term = "monthly""#, "");
    close(
        "run of the recommendation",
        run_bill(tmp.path(), &chosen),
        c["bill_usd"].as_f64().unwrap(),
        1e-9,
    );
}

#[test]
fn a_reservation_dearer_than_list_price_is_not_bought() {
    // At $0.30 per 1,000 input TPM-hour a covered request costs more than its $0.0045 overflow
    // ($0.30 + 100 output TPM > $0.27 an hour per request a minute): no reservation is best.
    let tmp = tempfile::tempdir().unwrap();
    let text = scenario(TOK, USD, "").replace(
        r#""1-month" = 0.05, "3-month" = 0.04"#,
        r#""1-month" = 0.30, "3-month" = 0.30"#,
    );
    let p = plan(tmp.path(), &text, &["--deployment", "tok"]);
    assert!(p["chosen"].is_null(), "{}", p["chosen"]);
    let md = std::fs::read_to_string(tmp.path().join("plan/plan.md")).unwrap();
    assert!(md.contains("No reservation for `tok`"), "{md}");
}

#[test]
fn the_shipped_scenario_plans_its_bedrock_reservation() {
    let tmp = tempfile::tempdir().unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/reserved_rate.toml");
    let out = tmp.path().join("plan");
    command_ok(
        "plan",
        &path,
        &out,
        &["--deployment", "sonnet", "--horizon-hours", "6"],
    );
    let p = read_json(&out.join("plan.json"));
    // Over these 6 night hours no reservation meets the SLA and is cheapest (the Bedrock prices
    // break even with list price only at 100% use): no recommendation, but the best size tried.
    assert!(p["chosen"].is_null(), "{}", p["chosen"]);
    let c = &p["candidates"][0];
    // On the vendor's steps: 100,000 / 10,000 minimum, 1,000 steps.
    for (k, min) in [("input_tpm", 100_000.0), ("output_tpm", 10_000.0)] {
        let v = c[k].as_f64().unwrap();
        assert!(v >= min && (v - min) % 1000.0 == 0.0, "{k} {v}");
    }
    // `run` of that size on that term bills the same.
    let text = std::fs::read_to_string(&path).unwrap();
    let written = r#"reserved_rate = { input_tpm = 150000, output_tpm = 30000, term = "1-month" }"#;
    assert!(text.contains(written));
    let chosen = text
        .replace(
            written,
            &format!(
                r#"reserved_rate = {{ input_tpm = {}, output_tpm = {}, term = "{}" }}"#,
                c["input_tpm"],
                c["output_tpm"],
                c["term"].as_str().unwrap()
            ),
        )
        .replace("horizon_hours = 168", "horizon_hours = 6");
    close(
        "run of the recommendation",
        run_bill(tmp.path(), &chosen),
        c["bill_usd"].as_f64().unwrap(),
        1e-9,
    );
}

#[test]
fn frontier_bills_a_token_rate_reservation_as_run_does() {
    // `frontier` prices each configuration from the simulated bill, which holds the
    // reservation's commitment and its overflow: the route through `tok` at 27,000 / 3,500 TPM
    // costs what `run` bills, per month.
    let tmp = tempfile::tempdir().unwrap();
    let extra = r#"
[[deployment]]
name = "ptu"
platform = "custom"
model = "m"
latency = { median_ms = 200, p99_ms = 200 }
reserved = { units = 1, tpm_per_unit = 100000000, concurrency_per_unit = 100, output_weight = 1, term = "monthly", price_per_unit_hour = { monthly = 6.0 } }

[frontier]
units = { ptu = [1] }
"#;
    let text = scenario(TOK, USD, extra);
    let sc = write(tmp.path(), "rate.toml", &text);
    let out = tmp.path().join("frontier");
    command_ok("frontier", &sc, &out, &[]);
    let mut r = csv::Reader::from_path(out.join("frontier.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let tok = rows.last().unwrap();
    let monthly: f64 = tok[col("monthly_usd")].parse().unwrap();
    // The same scenario run (ptu unused: the route through tok leaves it out, as frontier does).
    let alone = scenario(TOK, USD, "");
    let bill = run_bill(tmp.path(), &alone);
    close("frontier vs run", monthly, bill / 2.0 * 730.0, 1e-4);
}

#[test]
fn a_sharded_rate_plan_is_refused_and_the_sweep_it_names_runs_in_shards() {
    // plan's search of a reservation size steps on what the last size gave, so it is not dealt
    // into shards: exit 2 before any work, naming the sweep that spreads chosen sizes instead;
    // that sweep runs in shards.
    let tmp = tempfile::tempdir().unwrap();
    let sc = write(tmp.path(), "rate.toml", &scenario(TOK, USD, ""));
    let out = tmp.path().join("plan");
    let o = crate::common::llmcap()
        .args(["plan", "--deployment", "tok", "--shard", "0/2", "--out"])
        .arg(&out)
        .arg(&sc)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    let named = "--key deployment.tok.reserved_rate.input_tpm";
    assert!(err.contains("rate.toml") && err.contains(named), "{err}");
    assert!(!out.exists(), "nothing is written");
    for i in ["0/2", "1/2"] {
        let shard = tmp.path().join(format!("shard-{}", &i[..1]));
        command_ok(
            "sweep",
            &sc,
            &shard,
            &[
                "--shard",
                i,
                "--key",
                "deployment.tok.reserved_rate.input_tpm",
                "--values",
                "27000,41000",
            ],
        );
    }
    let merged = tmp.path().join("merged");
    crate::common::llmcap()
        .arg("merge")
        .arg(tmp.path().join("shard-0"))
        .arg(tmp.path().join("shard-1"))
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    let rows = csv::Reader::from_path(merged.join("sweep.csv"))
        .unwrap()
        .records()
        .count();
    assert_eq!(rows, 2, "one row per size");
}

/// plan.png is written beside plan.md: a PNG that decodes at the charts' 1,400 x 800 and is not
/// blank. What it draws is what the plan simulated: `tok`'s traffic with no reservation, each
/// hour (by hand: 60 requests a minute of 1,000 input and 100 output tokens, so 60,000 input and
/// 6,000 output TPM; the first minute has 59, as above, so the first hour 3,599: 59,983.3 TPM),
/// the recommended 62,000 / 6,500 TPM as the reserved rate, ringed on the 3-month term at its
/// bill per month, and every simulated size's bill per month on each term (plan.json's bills x
/// 730 / 2 h).
#[test]
fn plan_png_draws_the_simulated_plan() {
    use llmcap::domain::Scenario;
    use llmcap::input::scenario::Overrides;
    let tmp = tempfile::tempdir().unwrap();
    let text = scenario(TOK, USD, "");
    let p = plan(tmp.path(), &text, &["--deployment", "tok"]);
    let bytes = std::fs::read(tmp.path().join("plan/plan.png")).expect("plan.png written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(bytes.len() > 20_000, "only {} bytes", bytes.len());
    let img = image::load_from_memory(&bytes).expect("plan.png decodes");
    assert_eq!((img.width(), img.height()), (1400, 800));
    let rgb = img.to_rgb8();
    let colours: std::collections::BTreeSet<[u8; 3]> = rgb.pixels().map(|p| p.0).collect();
    assert!(colours.len() > 50, "{} colours: blank?", colours.len());
    let md = std::fs::read_to_string(tmp.path().join("plan/plan.md")).unwrap();
    assert!(
        md.contains("](plan.png)") && md.contains("plan.png shows"),
        "{md}"
    );

    let path = tmp.path().join("rate.toml");
    let o = Overrides {
        plan: true,
        ..Overrides::default()
    };
    let sc = Scenario::from_toml_with(&text, &path, &o).expect("valid");
    let spec = llmcap::analysis::rate_plan::spec(&sc, &path, None, Some("tok"), None, None)
        .unwrap()
        .expect("a rate plan");
    let r = llmcap::analysis::rate_plan::plan(&sc, &spec, 2, None);
    let c = llmcap::report::rate_plan::chart(&sc, &r);
    let input = &c.panels[0].hourly;
    assert_eq!(input.len(), 2);
    close("hour 0 input TPM", input[0], 3599.0 * 1000.0 / 60.0, 1e-12);
    close("hour 1 input TPM", input[1], 60_000.0, 1e-12);
    close("hour 1 output TPM", c.panels[1].hourly[1], 6_000.0, 1e-12);
    assert_eq!(c.panels[0].reserved, Some(62_000.0));
    assert_eq!(c.panels[1].reserved, Some(6_500.0));
    let m = c.marked.as_ref().expect("a recommendation");
    assert!(m.recommended);
    assert_eq!(c.terms[m.term].term, "3-month term");
    assert_eq!(m.size, 62_000.0);
    let month = 730.0 / 2.0;
    close(
        "ringed bill",
        m.monthly_usd,
        p["chosen"]["bill_usd"].as_f64().unwrap() * month,
        1e-12,
    );
    close(
        "no reservation",
        c.none_monthly_usd,
        p["no_reservation"]["total_usd"]["none"]["mean"]
            .as_f64()
            .unwrap()
            * month,
        1e-12,
    );
    // Every size simulated, on each term, at its bill in plan.json.
    let evaluated = p["evaluated"].as_array().unwrap();
    assert_eq!(c.terms.len(), 2);
    for t in &c.terms {
        let term = t.term.trim_end_matches(" term");
        assert_eq!(t.points.len(), evaluated.len());
        for (pt, e) in t.points.iter().zip(evaluated) {
            assert_eq!(Some(pt.size), e["input_tpm"].as_f64());
            let bill = e["total_usd"][term]["mean"].as_f64().unwrap();
            close(
                &format!("{term} {}", pt.size),
                pt.monthly_usd,
                bill * month,
                1e-12,
            );
            assert_eq!(pt.meets_sla, e["summary"]["meets_sla"] != false);
        }
    }
}

#[test]
fn frontier_tries_reservation_sizes_each_priced_under_every_term_as_by_hand() {
    // `tok` at no reservation, at the whole minute (62,000 / 6,500 TPM: the smallest sizes sold
    // above 60,000 / 6,000) and at the minimums (20,000 / 2,000 TPM: 20 of each minute's 60
    // requests covered), each size priced on 1-month and 3-month. Same traffic in every row, so
    // `usd` costs the same in all of them, and the rows differ by `tok`'s bill alone (2 h):
    //   none:            7,199 requests x $0.0045                      = $32.3955
    //   62k/6.5k 1-month: (62 x 0.05 + 6.5 x 0.20) x 2 = 4.40 x 2       = $8.80, no overflow
    //   62k/6.5k 3-month: (62 x 0.04 + 6.5 x 0.18) x 2 = 3.65 x 2       = $7.30, no overflow
    //   20k/2k 1-month:   (20 x 0.05 + 2 x 0.20) x 2 = $2.80, + 4,799 overflowing x $0.0045
    //   20k/2k 3-month:   (20 x 0.04 + 2 x 0.18) x 2 = $2.32, + the same $21.5955
    // Every request is served at 200 ms on either side of the reservation, so p99 and
    // availability tie and the frontier is the cheapest row: 62k/6.5k TPM on 3-month.
    let tmp = tempfile::tempdir().unwrap();
    let extra = r#"
[frontier]
reserved_rate = { tok = ["none", { input_tpm = 62000, output_tpm = 6500 }, { input_tpm = 20000, output_tpm = 2000 }] }
"#;
    let sc = write(tmp.path(), "rate.toml", &scenario(TOK, USD, extra));
    let out = tmp.path().join("frontier");
    command_ok("frontier", &sc, &out, &[]);
    let mut r = csv::Reader::from_path(out.join("frontier.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    let cell = |i: usize, n: &str| rows[i][col(n)].to_string();
    let sizes: Vec<(String, String)> = (0..rows.len())
        .map(|i| (cell(i, "reserved_rate"), cell(i, "terms")))
        .collect();
    let want = [
        ("tok=none", ""),
        ("tok=62000/6500 TPM", "tok=1-month"),
        ("tok=62000/6500 TPM", "tok=3-month"),
        ("tok=20000/2000 TPM", "tok=1-month"),
        ("tok=20000/2000 TPM", "tok=3-month"),
    ];
    assert_eq!(
        sizes,
        want.map(|(a, b)| (a.to_string(), b.to_string())).to_vec()
    );
    let monthly = |i: usize| cell(i, "monthly_usd").parse::<f64>().unwrap();
    let tok_bill = [
        32.3955,
        8.80,
        7.30,
        2.80 + 4799.0 * 0.0045,
        2.32 + 4799.0 * 0.0045,
    ];
    for i in 1..5 {
        close(
            &format!("row {i} against no reservation"),
            monthly(i) - monthly(0),
            (tok_bill[i] - tok_bill[0]) / 2.0 * 730.0,
            1e-6,
        );
    }
    let pareto: Vec<bool> = (0..5).map(|i| cell(i, "pareto") == "true").collect();
    assert_eq!(pareto, [false, false, true, false, false]);
    assert!((0..5).all(|i| cell(i, "ttft_p99_ms") == cell(0, "ttft_p99_ms")));
    // The sustained-demand search runs for the frontier's row like any other.
    assert!(!cell(2, "sustained_demand_scale").is_empty());
    let md = std::fs::read_to_string(out.join("frontier.md")).unwrap();
    assert!(md.contains("tok 62k/6.5k TPM 3-month"), "{md}");

    // Each row bills what `run` of its configuration bills: the minimums on the 3-month term
    // (the written term is 1-month: the term changes the price only), and no reservation.
    let small = r#"input_tpm = 20000, output_tpm = 2000, term = "3-month""#;
    let bill = run_bill(tmp.path(), &scenario(small, USD, ""));
    close(
        "20k/2k 3-month vs run",
        monthly(4),
        bill / 2.0 * 730.0,
        1e-9,
    );
    let text = scenario(TOK, USD, "");
    let start = text.find("reserved_rate = { input_tpm = 27000").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let none = format!("{}{}", &text[..start], &text[end..]);
    let bill = run_bill(tmp.path(), &none);
    close(
        "no reservation vs run",
        monthly(0),
        bill / 2.0 * 730.0,
        1e-9,
    );
}

/// The hand case with `tok`'s on-demand side held to 10 requests a minute (a token bucket of
/// 10, refilled at 10 a minute), no retries, and input reserved at $0.30 per 1,000 TPM-hour (a
/// covered request costs more than its overflow, so only the SLA buys a reservation).
fn throttled(latency: &str) -> String {
    scenario(TOK, USD, "[client]\nmax_attempts = 1\n")
        .replace(
            r#""1-month" = 0.05, "3-month" = 0.04"#,
            r#""1-month" = 0.30, "3-month" = 0.30"#,
        )
        .replacen(
            "on_demand = { input_per_1m = 3.0, output_per_1m = 15.0 }",
            "on_demand = { input_per_1m = 3.0, output_per_1m = 15.0, rpm = 10 }",
            1,
        )
        .replacen("latency = { median_ms = 200, p99_ms = 200 }", latency, 1)
}

#[test]
fn when_no_size_tried_meets_the_sla_the_search_walks_up_to_the_smallest_that_does() {
    // By hand: each minute's first covered requests take the reservation, the rest overflow one
    // a second into the 10-request bucket. An overflow of n a minute drains the bucket by n and
    // refills it by 10, so only n <= 10 is never throttled: the reservation must cover 50 of
    // the 60 requests a minute. With no reservation ~10 a minute are served, so every start
    // (the hours' served rate) is the smallest size, 20,000 / 2,000 TPM (20 covered, 40
    // overflowing, most throttled): every start misses, and the cheapest of them is no
    // reservation. Nearer the SLA first walks up: input 48,000 TPM covers 48 (12 overflow: a
    // 429 or two a minute, 97-98% within the SLA), 55,000 covers 55. On output, 5,000 TPM
    // covers 50 and 6,500 covers 60; one output step (1,500 TPM, $0.27 an hour on 3-month)
    // saves 5 overflowing requests a minute ($1.35 an hour), so the cheapest size meeting the
    // SLA is 55,000 / 6,500 TPM, on 3-month ($16.50 + $1.17 an hour against $16.50 + $1.30).
    let tmp = tempfile::tempdir().unwrap();
    let p = plan(
        tmp.path(),
        &throttled("latency = { median_ms = 200, p99_ms = 200 }"),
        &["--deployment", "tok"],
    );
    let none = &p["no_reservation"];
    assert_eq!(none["summary"]["meets_sla"], false, "{none}");
    let c = &p["chosen"];
    assert_eq!(c["input_tpm"].as_f64(), Some(55000.0), "{c}");
    assert_eq!(c["output_tpm"].as_f64(), Some(6500.0), "{c}");
    assert_eq!(c["term"], "3-month", "{c}");
    assert_eq!(c["summary"]["meets_sla"], true, "{c}");
    assert!(p["nearest"].is_null(), "{}", p["nearest"]);
    // One input step less (48,000) misses: the SLA, not the price, sets the size.
    let sizes = p["evaluated"].as_array().unwrap();
    let at = |i: f64, o: f64| {
        sizes
            .iter()
            .find(|s| s["input_tpm"].as_f64() == Some(i) && s["output_tpm"].as_f64() == Some(o))
            .unwrap_or_else(|| panic!("{i}/{o} not simulated"))
    };
    assert_eq!(at(48000.0, 6500.0)["summary"]["meets_sla"], false);
    assert_eq!(at(20000.0, 2000.0)["summary"]["meets_sla"], false);
    // `run` of it bills what plan says.
    let chosen = throttled("latency = { median_ms = 200, p99_ms = 200 }").replacen(
        TOK,
        r#"input_tpm = 55000, output_tpm = 6500, term = "3-month""#,
        1,
    );
    close(
        "run of the recommendation",
        run_bill(tmp.path(), &chosen),
        c["bill_usd"].as_f64().unwrap(),
        1e-9,
    );
}

#[test]
fn when_nothing_meets_the_sla_the_nearest_size_is_reported_with_its_attainment() {
    // The same throttled case, but `tok` answers in 200 ms median / 2 s p99: about 5% of
    // requests take over the 1 s target whatever is reserved, so no size meets p99 <= 1000 ms.
    // Covering more still brings the SLA nearer (fewer 429s) until nothing is throttled (50
    // covered a minute, as above); past that every size is as near, and the cheapest of them is
    // the answer: 55,000 / 6,500 TPM on 3-month again.
    let tmp = tempfile::tempdir().unwrap();
    let p = plan(
        tmp.path(),
        &throttled("latency = { median_ms = 200, p99_ms = 2000 }"),
        &["--deployment", "tok"],
    );
    assert!(p["chosen"].is_null(), "{}", p["chosen"]);
    let n = &p["nearest"];
    assert_eq!(n["input_tpm"].as_f64(), Some(55000.0), "{n}");
    assert_eq!(n["output_tpm"].as_f64(), Some(6500.0), "{n}");
    assert_eq!(n["term"], "3-month", "{n}");
    assert_eq!(n["target"].as_f64(), Some(0.99), "{n}");
    let a = n["attainment"].as_f64().unwrap();
    let short = n["shortfall"].as_f64().unwrap();
    assert!(a > 0.9 && a < 0.99, "{n}");
    close("attainment + shortfall", a + short, 0.99, 1e-9);
    // Nearer than no reservation, which throttles most of the traffic.
    let none = p["no_reservation"]["summary"]["sla_attainment"]["mean"]
        .as_f64()
        .unwrap();
    assert!(none < a - 0.3, "no reservation {none}, nearest {a}");
    let md = std::fs::read_to_string(tmp.path().join("plan/plan.md")).unwrap();
    let want = format!(
        "no size tried meets p99 <= 1000 ms: the nearest, 55,000 input / 6,500 output TPM on `3-month`, reaches {:.2}% against the target's 99.00% ({:.2} points short)",
        a * 100.0,
        short * 100.0
    );
    assert!(md.contains(&want), "{want}\n{md}");
}
