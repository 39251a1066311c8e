use std::path::{Path, PathBuf};

use super::read;
use crate::domain::measurement::{MeasurementFormat as F, Outcome};
use crate::error::InputError;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn message(e: &InputError) -> String {
    e.to_string()
}

#[test]
fn llmperf_rows_outcomes_and_the_summary_concurrency() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "raw_data_individual_x.json",
        r#"[{"error_code": null, "ttft_s": 0.5, "end_to_end_latency_s": 2.0, "number_input_tokens": 550, "number_output_tokens": 150},
            {"error_code": -100, "error_msg": "Output too few tokens 3", "ttft_s": 0.7, "end_to_end_latency_s": 1.0, "number_input_tokens": 550, "number_output_tokens": 3},
            {"error_code": 429, "error_msg": "rate", "ttft_s": 0, "end_to_end_latency_s": 0, "number_input_tokens": 0, "number_output_tokens": 0},
            {"error_code": -1, "ttft_s": null, "number_input_tokens": 550}]"#,
    );
    let m = read(&p, F::Llmperf).unwrap();
    assert_eq!(m.requests.len(), 4);
    let o: Vec<_> = m.requests.iter().map(|r| r.outcome).collect();
    assert_eq!(
        o,
        [Outcome::Ok, Outcome::Ok, Outcome::Throttled, Outcome::Error]
    );
    assert_eq!(m.requests[1].ttft_s, Some(0.7));
    assert_eq!(m.requests[2].ttft_s, None);
    assert_eq!(m.requests[0].level, None);
    write(
        d.path(),
        "raw_data_summary_x.json",
        r#"{"model": "m1", "num_concurrent_requests": 5}"#,
    );
    let m = read(&p, F::Llmperf).unwrap();
    assert_eq!(m.requests[0].level, Some(5.0));
    assert_eq!(m.target.as_deref(), Some("m1"));
}

#[test]
fn llmperf_bad_files_name_the_place() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "a.json",
        "[{\"ttft_s\": 0.5,\n \"error_code\": null,,}]",
    );
    let e = read(&p, F::Llmperf).unwrap_err();
    assert!(matches!(e, InputError::Parse { line: 2, .. }), "{e}");
    let p = write(d.path(), "b.json", r#"{"model": "summary"}"#);
    assert!(message(&read(&p, F::Llmperf).unwrap_err()).contains("summary file"));
    let p = write(
        d.path(),
        "c.json",
        r#"[{"error_code": null, "ttft_s": 0.5, "number_input_tokens": 5}, {"error_code": null, "ttft_s": -1}]"#,
    );
    let e = read(&p, F::Llmperf).unwrap_err();
    assert_eq!(e.path(), "[1].ttft_s", "{e}");
    let p = write(
        d.path(),
        "d.json",
        r#"[{"error_code": null, "number_input_tokens": 1.5, "ttft_s": 1}]"#,
    );
    let e = read(&p, F::Llmperf).unwrap_err();
    assert_eq!(e.path(), "[0].number_input_tokens", "{e}");
    let p = write(d.path(), "e.json", r#"[{"error_code": null}]"#);
    assert!(message(&read(&p, F::Llmperf).unwrap_err()).contains("needs its ttft_s"));
}

const GUIDELLM: &str = r#"{"benchmarks": [
 {"worker": {"backend_model": "m"},
  "metrics": {"request_concurrency": {"successful": {"mean": 1.0}}},
  "requests": {"successful": [
     {"time_to_first_token_ms": 20.0, "request_latency": 0.5, "start_time": 100.0, "prompt_tokens": 256, "output_tokens": 128},
     {"time_to_first_token_ms": 30.0, "request_latency": 0.6, "start_time": 101.0, "prompt_tokens": 256, "output_tokens": 128}],
   "errored": [{"error": "HTTP 429 Too Many Requests", "start_time": 102.0}],
   "incomplete": [{}]}},
 {"metrics": {"request_concurrency": {"successful": {"mean": 4.0}}},
  "requests": {"successful": [{"time_to_first_token_ms": 50.0, "start_time": 110.0, "prompt_tokens": 256}]}}]}"#;

#[test]
fn guidellm_json_and_yaml() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "g.json", GUIDELLM);
    let m = read(&p, F::Guidellm).unwrap();
    assert_eq!(m.requests.len(), 4);
    assert_eq!(m.requests[0].ttft_s, Some(0.02));
    assert_eq!(m.requests[0].start_s, Some(0.0));
    assert_eq!(m.requests[2].outcome, Outcome::Throttled);
    assert_eq!(m.requests[3].level, Some(4.0));
    assert!(m.notes.iter().any(|n| n.contains("1 incomplete")));
    // The same report as YAML.
    let v: serde_json::Value = serde_json::from_str(GUIDELLM).unwrap();
    let y = write(d.path(), "g.yaml", &yaml_serde::to_string(&v).unwrap());
    assert_eq!(read(&y, F::Guidellm).unwrap().requests, m.requests);
    let bad = write(
        d.path(),
        "h.yaml",
        "benchmarks:\n  - requests:\n      successful:\n        - {time_to_first_token_ms: fast}\n",
    );
    let e = read(&bad, F::Guidellm).unwrap_err();
    assert_eq!(
        e.path(),
        "benchmarks[0].requests.successful[0].time_to_first_token_ms",
        "{e}"
    );
    let bad = write(d.path(), "i.yaml", "benchmarks: [\n  {a: 1\n");
    assert!(matches!(
        read(&bad, F::Guidellm).unwrap_err(),
        InputError::Parse { .. }
    ));
    let bad = write(d.path(), "j.json", "{\"runs\": []}");
    assert!(message(&read(&bad, F::Guidellm).unwrap_err()).contains("benchmarks"));
}

const AZURE_LOG: &str = "2026-03-02 10:12:47 INFO     Load test args: {\"deployment\": \"my-ptu\", \"clients\": 8, \"rate\": 36.0, \"aggregation_window\": 60.0, \"context_tokens\": 1000, \"max_tokens\": 500}
2026-03-02 10:12:48 INFO     starting load...
2026-03-02 10:12:49 INFO     rpm: n/a   processing: 2    completed: 0     failures: 0    throttled: 0    requests: 0     tpm: 0      ttft_avg: n/a    ttft_95th: n/a    tbt_avg: n/a    tbt_95th: n/a    e2e_avg: n/a    e2e_95th: n/a    context_tpr_avg n/a  gen_tpr_10th n/a  gen_tpr_avg n/a  gen_tpr_90th n/a  util_avg: n/a    util_95th: n/a
WARNING something
2026-03-02 10:13:50 INFO     rpm: 9.0   processing: 1    completed: 14    failures: 3    throttled: 3    requests: 14    tpm: 13500.0 ttft_avg: 0.64   ttft_95th: 0.83   tbt_avg: 0.018  tbt_95th: 0.027  e2e_avg: 12.6   e2e_95th: 14.8   context_tpr_avg 1000 gen_tpr_10th 500  gen_tpr_avg 500  gen_tpr_90th 500  util_avg: 97.5%  util_95th: 110.2%
Traceback (most recent call last):
";

#[test]
fn azure_benchmark_text_log() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "log.txt", AZURE_LOG);
    let m = read(&p, F::AzureBenchmark).unwrap();
    assert_eq!(m.windows.len(), 2);
    let w = &m.windows[1];
    assert_eq!(
        (w.line, w.run_s, w.clients, w.rate_rpm),
        (5, 62.0, 8.0, Some(36.0))
    );
    assert_eq!((w.requests, w.throttled, w.failures), (14, 3, 3));
    assert_eq!(
        (w.ttft_avg_s, w.ttft_p95_s, w.util_avg_pct),
        (Some(0.64), Some(0.83), Some(97.5))
    );
    assert_eq!(
        (w.context_tokens, w.gen_tokens, w.tpm),
        (Some(1000.0), Some(500.0), Some(13500.0))
    );
    assert_eq!(m.windows[0].ttft_avg_s, None);
    assert_eq!(m.target.as_deref(), Some("my-ptu"));
    let bad = write(
        d.path(),
        "bad.txt",
        &AZURE_LOG.replace("ttft_avg: 0.64", "ttft_avg: fast"),
    );
    let e = read(&bad, F::AzureBenchmark).unwrap_err();
    assert_eq!(e.path(), "line 5");
    assert!(message(&e).contains("ttft_avg"), "{e}");
    let none = write(d.path(), "none.txt", "hello\n");
    assert!(message(&read(&none, F::AzureBenchmark).unwrap_err()).contains("no statistics lines"));
}

#[test]
fn azure_benchmark_json_lines() {
    let d = tempfile::tempdir().unwrap();
    let line = r#"{"run_seconds": 61, "timestamp": "2024-01-01 00:01:01", "rpm": 30.0, "processing": 4, "completed": 40, "failures": 2, "throttled": 2, "requests": 40, "tpm": {"context": 30000.0, "gen": 3000.0, "total": 33000.0}, "e2e": {"avg": 2.0, "95th": 3.0}, "ttft": {"avg": 0.5, "95th": 0.9}, "tbt": {"avg": 0.02, "95th": 0.03}, "gen_tokens": {"avg": 100}, "util": {"avg": "52.1%", "95th": "60.0%"}}"#;
    let p = write(d.path(), "run_clients=4.jsonl", &format!("{line}\n"));
    let m = read(&p, F::AzureBenchmark).unwrap();
    let w = &m.windows[0];
    assert_eq!(
        (w.run_s, w.clients, w.util_avg_pct, w.ttft_p95_s),
        (61.0, 4.0, Some(52.1), Some(0.9))
    );
    assert_eq!(w.context_tokens, Some(1000.0));
    let bad = write(d.path(), "b.jsonl", &format!("{line}\n{{\"rpm\": 1"));
    assert_eq!(read(&bad, F::AzureBenchmark).unwrap_err().path(), "line 2");
}

#[test]
fn csv_columns_statuses_and_errors() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "r.csv",
        "start_s,ttft_ms,input_tokens,output_tokens,status,concurrency\n10,500,1000,100,200,2\n11,,1000,,429,2\n12,700,2000,100,,4\n",
    );
    let m = read(&p, F::Csv).unwrap();
    assert_eq!(m.requests.len(), 3);
    assert_eq!(m.requests[0].ttft_s, Some(0.5));
    assert_eq!(m.requests[1].outcome, Outcome::Throttled);
    assert_eq!(m.requests[2].start_s, Some(2.0));
    assert_eq!(m.requests[2].level, Some(4.0));
    for (text, at, words) in [
        ("ttft,input_tokens\n1,2\n", "line 1", "ttft_ms"),
        ("ttft_ms,output_tokens\n1,2\n", "line 1", "input_tokens"),
        ("ttft_ms,input_tokens\n1,2\n-3,4\n", "line 3", "0 or more"),
        (
            "ttft_ms,input_tokens,status\n1,2,ok\n",
            "line 2",
            "HTTP status",
        ),
        (
            "ttft_ms,input_tokens\n,2\n",
            "line 2",
            "time to first token",
        ),
        ("ttft_ms,input_tokens\n1,2.5\n", "line 2", "whole number"),
        ("ttft_ms,input_tokens\n1,2,3\n", "line 2", "CSV row"),
        (
            "ttft_ms,input_tokens,concurrency,rate_rps\n1,2,3,4\n",
            "line 1",
            "not both",
        ),
    ] {
        let p = write(d.path(), "bad.csv", text);
        let e = read(&p, F::Csv).unwrap_err();
        assert_eq!(e.path(), at, "{text}: {e}");
        assert!(message(&e).contains(words), "{text}: {e}");
    }
}

/// A GuideLLM 0.4-style benchmark without `requests`: totals under `metrics`, p50 among the
/// percentiles. Made-up numbers.
const GUIDELLM_STATS: &str = r#"{"benchmarks": [
 {"worker": {"backend_model": "m2"},
  "metrics": {
   "request_totals": {"successful": 30, "errored": 2, "incomplete": 1, "total": 33},
   "time_to_first_token_ms": {"successful": {"mean": 52.0, "median": 50.0, "count": 30,
      "percentiles": {"p001": 40.0, "p01": 40.0, "p05": 42.0, "p10": 44.0, "p25": 47.0, "p50": 50.0,
                      "p75": 54.0, "p90": 60.0, "p95": 64.0, "p99": 70.0, "p999": 70.0}}},
   "request_concurrency": {"successful": {"mean": 2.0}},
   "requests_per_second": {"successful": {"mean": 3.0}},
   "request_latency": {"successful": {"mean": 0.6}},
   "prompt_token_count": {"successful": {"mean": 200.0}},
   "output_token_count": {"successful": {"mean": 20.0}}}}]}"#;

#[test]
fn guidellm_statistics_without_rows_become_level_summaries() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "s.json", GUIDELLM_STATS);
    let m = read(&p, F::Guidellm).unwrap();
    assert!(m.requests.is_empty());
    assert_eq!(m.summaries.len(), 1);
    let s = &m.summaries[0];
    assert_eq!((s.at.as_str(), s.level), ("benchmarks[0]", Some(2.0)));
    assert_eq!((s.served, s.errored, s.incomplete), (30, 2, 1));
    assert_eq!(s.ttft_ms.len(), 11);
    assert_eq!(s.ttft_ms[5], (0.5, 50.0));
    assert_eq!(s.ttft_ms[9], (0.99, 70.0));
    assert_eq!(
        (s.requests_per_s, s.input_mean, s.output_mean, s.e2e_mean_s),
        (Some(3.0), Some(200.0), Some(20.0), Some(0.6))
    );
    assert_eq!(m.target.as_deref(), Some("m2"));
    // One row kept of 30 served (GuideLLM's --output-sampling): the statistics are used.
    let sampled = GUIDELLM_STATS.replace(
        r#""metrics": {"#,
        r#""requests": {"successful": [{"time_to_first_token_ms": 51.0, "prompt_tokens": 200}]}, "metrics": {"#,
    );
    let m = read(&write(d.path(), "t.json", &sampled), F::Guidellm).unwrap();
    assert!(m.requests.is_empty() && m.summaries.len() == 1);
    assert!(
        m.notes
            .iter()
            .any(|n| n.contains("1 per-request rows kept of 30")),
        "{:?}",
        m.notes
    );
    // As many rows as the statistics count: the rows are read, as before, with the summary.
    let full = sampled.replace(r#""count": 30"#, r#""count": 1"#);
    let m = read(&write(d.path(), "u.json", &full), F::Guidellm).unwrap();
    assert_eq!(m.requests.len(), 1);
    assert_eq!(m.requests[0].ttft_s, Some(0.051));
    assert_eq!(m.summaries.len(), 1);
    for (from, to, at, words) in [
        (
            r#""p90": 60.0"#,
            r#""p90": "slow""#,
            "percentiles.p90",
            "\"slow\"",
        ),
        (
            r#""p90": 60.0, "#,
            "",
            "percentiles.p90",
            "p10, p25, p75, p90",
        ),
        (
            r#""p90": 60.0"#,
            r#""p90": 50.5"#,
            "percentiles.p90",
            "must not decrease",
        ),
        (r#""count": 30"#, r#""count": 2.5"#, "count", "whole number"),
    ] {
        let bad = write(d.path(), "bad.json", &GUIDELLM_STATS.replace(from, to));
        let e = read(&bad, F::Guidellm).unwrap_err();
        assert_eq!(
            e.path(),
            format!("benchmarks[0].metrics.time_to_first_token_ms.successful.{at}"),
            "{e}"
        );
        assert!(message(&e).contains(words), "{e}");
    }
}

/// GuideLLM 0.3's CSV layout: one header row, the percentiles as a list in one cell.
const GUIDELLM_CSV_03: &str = "Type,Name,Successful Requests,Errored Requests,Incomplete Requests,Successful Requests per second mean,Successful Request concurrency mean,Successful Prompt token count mean,Successful Output token count mean,Successful Time to first token ms mean,Successful Time to first token ms median,Successful Time to first token ms std dev,\"Successful Time to first token ms [min, 0.1, 1, 5, 10, 25, 75, 90, 95, 99, max]\"
generative_benchmark,synchronous,40,0,1,1.5,1.0,300,30,31.0,30.0,2.0,\"[25.0, 25.0, 25.5, 26.0, 27.0, 28.0, 32.0, 35.0, 37.0, 41.0, 42.0]\"
generative_benchmark,throughput,80,4,2,6.0,8.0,300,30,95.0,90.0,9.0,\"[70.0, 70.0, 72.0, 75.0, 78.0, 84.0, 99.0, 110.0, 118.0, 130.0, 131.0]\"
";

/// GuideLLM 0.4's layout: three header rows (group, field, statistic).
const GUIDELLM_CSV_04: &str = "Run Info,Request Counts,Request Counts,Time to First Token,Time to First Token,Server Throughput,Server Throughput,Token Metrics
Run ID,Successful,Errored,Successful ms,Successful ms,Successful Requests/Sec,Successful Concurrency,Successful Input Tokens
,,,Median,Percentiles,Mean,Mean,Mean
r1,40,0,30.0,\"[25.0, 25.0, 25.5, 26.0, 27.0, 28.0, 32.0, 35.0, 37.0, 41.0, 42.0]\",1.5,1.0,300
r1,12,0,,,,,
";

#[test]
fn guidellm_csv_reports_in_both_layouts() {
    let d = tempfile::tempdir().unwrap();
    let m = read(&write(d.path(), "b3.csv", GUIDELLM_CSV_03), F::Guidellm).unwrap();
    assert_eq!(m.summaries.len(), 2);
    let s = &m.summaries[1];
    assert_eq!(
        (s.at.as_str(), s.level, s.served, s.errored),
        ("line 3", Some(8.0), 80, 4)
    );
    assert_eq!(s.ttft_ms.len(), 10); // the median and 9 percentiles, min and max left out
    assert_eq!(s.ttft_ms[0], (0.001, 70.0));
    assert!(s.ttft_ms.contains(&(0.5, 90.0)) && s.ttft_ms.contains(&(0.99, 130.0)));
    assert_eq!(
        (s.requests_per_s, s.output_mean, s.ttft_mean_ms),
        (Some(6.0), Some(30.0), Some(95.0))
    );
    let m4 = read(&write(d.path(), "b4.csv", GUIDELLM_CSV_04), F::Guidellm).unwrap();
    assert_eq!(m4.summaries.len(), 1);
    assert_eq!(m4.summaries[0].ttft_ms, m.summaries[0].ttft_ms);
    assert_eq!(m4.summaries[0].at, "line 4");
    assert!(
        m4.notes
            .iter()
            .any(|n| n.contains("line 5: no TTFT statistics")),
        "{:?}",
        m4.notes
    );
    for (text, at, words) in [
        (
            GUIDELLM_CSV_03.replace("Successful Time to first token ms median", "TTFT median"),
            "line 1",
            "Successful Time to first token ms median",
        ),
        (
            GUIDELLM_CSV_04.replace("Successful,Errored", "OK,Errored"),
            "line 1",
            "Request Counts / Successful",
        ),
        (
            GUIDELLM_CSV_03.replace(",31.0,30.0,", ",31.0,fast,"),
            "line 2",
            "\"fast\"",
        ),
        (
            GUIDELLM_CSV_03.replace("[70.0, 70.0, ", "[70.0, "),
            "line 3",
            "list of 11 numbers",
        ),
        (
            GUIDELLM_CSV_03.replace("110.0, 118.0", "110.0, 100.0"),
            "line 3",
            "must not decrease",
        ),
        (
            GUIDELLM_CSV_04.replace("r1,12,0,,,,,", "r1,12,0,,,"),
            "line 5",
            "fields",
        ),
    ] {
        let e = read(&write(d.path(), "bad.csv", &text), F::Guidellm).unwrap_err();
        assert_eq!(e.path(), at, "{e}");
        assert!(message(&e).contains(words), "{e}");
    }
}
