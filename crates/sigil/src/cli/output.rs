//! Printing answers: readable tables for people, JSON or YAML for scripts.

use serde_json::Value;

/// How a client command prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns.
    Table,
    /// Pretty JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Prints `value` as JSON or YAML, or as a table of `columns` (one row per object; a single
/// object prints as `key  value` lines).
pub fn print(value: &Value, format: OutputFormat, columns: &[&str]) -> anyhow::Result<()> {
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(value)?),
        OutputFormat::Yaml => print!("{}", serde_saphyr::to_string(value)?),
        OutputFormat::Table => print!("{}", table(value, columns)),
    }
    Ok(())
}

/// Prints only the token in `field` of `answer` as a table (so a shell can capture it), or the
/// whole answer as JSON or YAML.
pub fn print_token(answer: &Value, format: OutputFormat, field: &str) -> anyhow::Result<()> {
    if format == OutputFormat::Table {
        println!("{}", answer[field].as_str().unwrap_or_default());
        return Ok(());
    }
    print(answer, format, &[])
}

/// Renders rows (an array) or one object as aligned text.
pub fn table(value: &Value, columns: &[&str]) -> String {
    match value {
        Value::Array(rows) => {
            let mut lines = vec![columns.iter().map(|c| c.to_uppercase()).collect::<Vec<_>>()];
            for row in rows {
                lines.push(columns.iter().map(|c| cell(row.get(*c))).collect());
            }
            align(&lines)
        }
        Value::Object(map) => {
            let lines: Vec<Vec<String>> = map
                .iter()
                .map(|(k, v)| vec![k.clone(), cell(Some(v))])
                .collect();
            align(&lines)
        }
        other => format!("{}\n", cell(Some(other))),
    }
}

fn cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) if items.iter().all(|i| !i.is_object()) => items
            .iter()
            .map(|i| cell(Some(i)))
            .collect::<Vec<_>>()
            .join(","),
        Some(other) => other.to_string(),
    }
}

fn align(lines: &[Vec<String>]) -> String {
    let width = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..width)
        .map(|i| {
            lines
                .iter()
                .filter_map(|l| l.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for line in lines {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn arrays_print_as_aligned_columns() {
        let rows = json!([{"name": "a", "type": "ed25519"}, {"name": "longer", "type": null}]);
        assert_eq!(
            table(&rows, &["name", "type"]),
            "NAME    TYPE\na       ed25519\nlonger  -\n"
        );
    }

    #[test]
    fn objects_print_as_key_value_lines() {
        let obj = json!({"sealed": false, "threshold": 3});
        assert_eq!(table(&obj, &[]), "sealed     false\nthreshold  3\n");
    }
}
