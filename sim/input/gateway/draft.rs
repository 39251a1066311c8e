//! A scenario being written by an importer: TOML sections of `key = value  # comment` entries. Kept
//! apart from the scenario's serde types on purpose: an import writes a readable file for a planner
//! to edit (one value per line, each with its provenance), not a serialisation.

use toml::Value;

/// One `key = value  # comment` line.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    pub comment: Option<String>,
}

/// A `[table]` or `[[array]]` section.
#[derive(Debug, Clone)]
pub struct Section {
    /// `scenario`, `client`, `gateway` (tables) or `class`, `deployment` (arrays of tables).
    pub name: &'static str,
    pub array: bool,
    /// Comment lines written above the header.
    pub comments: Vec<String>,
    pub entries: Vec<Entry>,
}

impl Section {
    pub fn table(name: &'static str) -> Self {
        Section {
            name,
            array: false,
            comments: Vec::new(),
            entries: Vec::new(),
        }
    }
    pub fn array(name: &'static str) -> Self {
        Section {
            array: true,
            ..Section::table(name)
        }
    }
    /// Adds `key = value  # comment`.
    pub fn set(&mut self, key: &str, value: impl Into<Value>, comment: impl Into<String>) {
        let comment: String = comment.into();
        self.entries.push(Entry {
            key: key.to_string(),
            value: value.into(),
            comment: (!comment.is_empty()).then_some(comment),
        });
    }
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }
}

/// The scenario an importer writes.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// Comment lines at the top of the file.
    pub title: Vec<String>,
    pub sections: Vec<Section>,
    pub warnings: Vec<String>,
}

impl Draft {
    pub fn warn(&mut self, w: impl Into<String>) {
        self.warnings.push(w.into());
    }

    pub fn count(&self, name: &str) -> usize {
        self.sections.iter().filter(|s| s.name == name).count()
    }

    /// The scenario file text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.title {
            push_comment(&mut out, "", line);
        }
        if !self.warnings.is_empty() {
            out.push_str(
                "#\n# Not modelled or assumed (also printed as warnings by the import):\n",
            );
            for w in &self.warnings {
                push_comment(&mut out, "- ", w);
            }
        }
        for s in &self.sections {
            out.push('\n');
            for c in &s.comments {
                push_comment(&mut out, "", c);
            }
            if s.array {
                out.push_str(&format!("[[{}]]\n", s.name));
            } else {
                out.push_str(&format!("[{}]\n", s.name));
            }
            for e in &s.entries {
                let line = format!("{} = {}", bare_or_quoted(&e.key), inline(&e.value));
                match &e.comment {
                    Some(c) => out.push_str(&format!("{line}  # {}\n", one_line(c))),
                    None => out.push_str(&format!("{line}\n")),
                }
            }
        }
        out
    }
}

fn push_comment(out: &mut String, prefix: &str, text: &str) {
    let text = one_line(text);
    if text.is_empty() {
        out.push_str("#\n");
    } else {
        out.push_str(&format!("# {prefix}{text}\n"));
    }
}

/// Comments are single lines: newlines and control characters become spaces.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn bare_or_quoted(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

/// A value on one line: tables as inline tables, recursively.
pub fn inline(v: &Value) -> String {
    match v {
        Value::Table(t) => {
            if t.is_empty() {
                return "{}".into();
            }
            let parts: Vec<String> = t
                .iter()
                .map(|(k, v)| format!("{} = {}", bare_or_quoted(k), inline(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.1}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_parseable_toml_with_comments() {
        let mut d = Draft {
            title: vec!["Imported from x.yaml".into()],
            ..Draft::default()
        };
        d.warn("router_settings.redis_host: not modelled");
        let mut s = Section::table("scenario");
        s.set("name", "x", "from the file name");
        s.set("horizon_hours", 168, "");
        d.sections.push(s);
        let mut c = Section::array("deployment");
        let mut od = toml::Table::new();
        od.insert("rpm".into(), Value::Integer(600));
        od.insert("weird key".into(), Value::Float(2.0));
        c.set("on_demand", od, "line\nbreak");
        d.sections.push(c);
        let text = d.render();
        let parsed: toml::Table = toml::from_str(&text).expect("parses");
        assert_eq!(parsed["scenario"]["horizon_hours"].as_integer(), Some(168));
        assert_eq!(
            parsed["deployment"][0]["on_demand"]["weird key"].as_float(),
            Some(2.0)
        );
        assert!(text.contains("# line break\n"), "{text}");
        assert!(text.contains("# - router_settings.redis_host"), "{text}");
    }
}
