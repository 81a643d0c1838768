//! The results: metrics with their targets, the printed table and `results.json` (one flat
//! object of metric names plus metadata).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Result;
use serde_json::{Map, Value};

/// A target a metric must meet.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
}

impl Target {
    pub fn met(self, value: f64) -> bool {
        match self {
            Target::AtLeast(t) => value >= t,
            Target::AtMost(t) => value <= t,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::AtLeast(t) => write!(f, ">= {t}"),
            Target::AtMost(t) => write!(f, "<= {t}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Metric {
    pub name: &'static str,
    pub value: f64,
    pub target: Option<Target>,
}

/// Everything one run produced.
#[derive(Debug, Default)]
pub struct Report {
    pub metrics: Vec<Metric>,
    pub meta: Map<String, Value>,
}

impl Report {
    pub fn metric(&mut self, name: &'static str, value: f64, target: Option<Target>) {
        self.metrics.push(Metric {
            name,
            value,
            target,
        });
    }

    pub fn meta(&mut self, key: &str, value: impl Into<Value>) {
        self.meta.insert(key.to_owned(), value.into());
    }

    /// Targets missed.
    pub fn failures(&self) -> Vec<&Metric> {
        self.metrics
            .iter()
            .filter(|m| m.target.is_some_and(|t| !t.met(m.value)))
            .collect()
    }

    pub fn table(&self) -> String {
        let mut out = String::new();
        let width = self
            .metrics
            .iter()
            .map(|m| m.name.len())
            .max()
            .unwrap_or(0)
            .max(26);
        let _ = writeln!(
            out,
            "{:<width$} {:>14} {:>10}  result",
            "metric", "value", "target"
        );
        let _ = writeln!(out, "{}", "-".repeat(width + 34));
        for m in &self.metrics {
            let (target, verdict) = match m.target {
                Some(t) if t.met(m.value) => (t.to_string(), "pass"),
                Some(t) => (t.to_string(), "FAIL"),
                None => ("-".to_owned(), ""),
            };
            let _ = writeln!(
                out,
                "{:<width$} {:>14} {:>10}  {verdict}",
                m.name,
                format_value(m.value),
                target
            );
        }
        out
    }

    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        for m in &self.metrics {
            map.insert(m.name.to_owned(), rounded(m.value));
        }
        for (k, v) in &self.meta {
            let v = match v.as_f64() {
                Some(f) if v.is_f64() => rounded(f),
                _ => v.clone(),
            };
            map.insert(k.clone(), v);
        }
        Value::Object(map)
    }

    pub fn write_json(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_string_pretty(&self.to_json())? + "\n")?;
        Ok(())
    }
}

fn format_value(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// Three significant decimals are plenty; keeps the JSON readable.
pub fn rounded(v: f64) -> Value {
    if v.abs() >= 100.0 && v.abs() < 1e15 {
        return Value::from(v.round() as i64);
    }
    serde_json::Number::from_f64((v * 1000.0).round() / 1000.0).map_or(Value::Null, Value::Number)
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The CPU model from `/proc/cpuinfo`.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_table() {
        let mut r = Report::default();
        r.metric("a", 0.8, Some(Target::AtLeast(0.7)));
        r.metric("b", 6.0, Some(Target::AtMost(5.0)));
        r.metric("c", 12345.0, None);
        assert_eq!(r.failures().len(), 1);
        let table = r.table();
        assert!(table.contains("FAIL") && table.contains("pass") && table.contains("12345"));
        assert_eq!(r.to_json()["c"], 12345);
        assert_eq!(r.to_json()["a"].as_f64(), Some(0.8));
        assert_eq!(utc_now().len(), 20);
    }
}
