//! The source layout, checked: no file under sim/ over 1,200 lines, no function over 150 lines
//! (except the listed ones, which may only shrink), and imports that point down the stages.

use std::path::{Path, PathBuf};

const MAX_FILE_LINES: usize = 1200;
const MAX_FN_LINES: usize = 150;

/// Functions still over `MAX_FN_LINES` (file, name, lines when listed). Each may only get
/// shorter; split it into named steps and take it off the list. A new long function fails.
const LONG_FUNCTIONS: &[(&str, &str, usize)] = &[];

/// (stage folder, what its files must not name, why).
const FORBIDDEN: &[(&str, &[&str], &str)] = &[
    (
        "sim/model",
        &[
            "crate::input",
            "crate::report",
            "crate::analysis",
            "clap::",
            "csv::",
            "plotters",
        ],
        "the model never imports input parsing, analyses, report, clap, csv or plotters",
    ),
    (
        "sim/analysis",
        &["crate::report"],
        "analysis never imports report (report reads analysis results)",
    ),
    (
        "sim/input",
        &["crate::model", "crate::analysis", "crate::report"],
        "input builds domain types; it never imports the model, analyses or report",
    ),
    (
        "sim/domain",
        &[
            "crate::input",
            "crate::model",
            "crate::analysis",
            "crate::report",
        ],
        "domain types import neither input nor model",
    ),
];

fn sources() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut stack = vec![root.join("sim")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The name of the function a line declares, if it declares one (`pub(crate) const fn x`).
fn declared_fn(line: &str) -> Option<&str> {
    let mut rest = line.trim_start();
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        if let Some(r) = rest.strip_prefix(prefix) {
            rest = r;
        }
    }
    let rest = rest.strip_prefix("fn ")?;
    let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    Some(&rest[..end])
}

/// (name, first line, lines) of every function with a body in rustfmt-formatted `text`:
/// from `fn` to the closing brace at the same indentation.
fn functions(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = declared_fn(line) else {
            continue;
        };
        let indent = &line[..line.len() - line.trim_start().len()];
        // The end of the signature: a body opens, or a declaration ends.
        let Some(j) = (i..lines.len()).find(|&j| {
            let t = lines[j].trim_end();
            t.ends_with('{') || t.ends_with('}') || t.ends_with(';')
        }) else {
            continue;
        };
        let t = lines[j].trim_end();
        if t.ends_with(';') && !t.contains('{') {
            continue;
        }
        let n = if t.ends_with('}') && t.matches('{').count() == t.matches('}').count() {
            j - i + 1
        } else {
            let close = format!("{indent}}}");
            match (j + 1..lines.len()).find(|&k| lines[k].trim_end() == close) {
                Some(k) => k - i + 1,
                None => continue,
            }
        };
        out.push((name.to_string(), i + 1, n));
    }
    out
}

#[test]
fn no_source_file_is_too_long() {
    let long: Vec<String> = sources()
        .iter()
        .map(|(p, t)| (p, t.lines().count()))
        .filter(|(_, n)| *n > MAX_FILE_LINES)
        .map(|(p, n)| format!("{p}: {n} lines"))
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_FILE_LINES} lines; split them into a folder of named modules:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_function_is_too_long() {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    for (path, text) in sources() {
        for (name, line, n) in functions(&text) {
            if n <= MAX_FN_LINES {
                continue;
            }
            match LONG_FUNCTIONS
                .iter()
                .find(|(p, f, _)| *p == path && *f == name)
            {
                Some((_, _, listed)) if n <= *listed => seen.push((path.clone(), name.clone())),
                Some((_, _, listed)) => problems.push(format!(
                    "{path}:{line}: fn {name} grew to {n} lines (listed at {listed}); split it"
                )),
                None => problems.push(format!(
                    "{path}:{line}: fn {name} is {n} lines (at most {MAX_FN_LINES}); split it into named steps"
                )),
            }
        }
    }
    for (p, f, _) in LONG_FUNCTIONS {
        if !seen.iter().any(|(sp, sf)| sp == p && sf == f) {
            problems.push(format!(
                "{p}: fn {f} is no longer over {MAX_FN_LINES} lines (or is gone): take it off LONG_FUNCTIONS in tests/layout.rs"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn imports_point_down_the_stages() {
    let mut problems = Vec::new();
    for (path, text) in sources() {
        for (stage, names, why) in FORBIDDEN {
            if !Path::new(&path).starts_with(stage) {
                continue;
            }
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for name in *names {
                    if code.contains(name) {
                        problems.push(format!("{path}:{}: names {name}: {why}", i + 1));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_function_counter_counts() {
    let text = "fn a() {\n    let x = 1;\n}\n\npub(crate) fn b(\n    x: u8,\n) -> u8 {\n    x\n}\nfn c() -> u8 { 1 }\ntrait T {\n    fn d(&self);\n}\n";
    let got = functions(text);
    assert_eq!(
        got,
        vec![
            ("a".to_string(), 1, 3),
            ("b".to_string(), 5, 5),
            ("c".to_string(), 10, 1),
        ]
    );
}
