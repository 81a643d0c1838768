//! Registry-layout documentation rendered from the provider's own schemas and the examples under
//! `examples/`, so the docs cannot drift from the code (`make docs` writes them; a test fails
//! when `docs/` is stale).
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tfplugin::schema::{Attribute, AttributeKind, Mode, Nesting};
use tfplugin::{Provider, Schema};

use crate::MomentoProvider;

/// Every documentation page, keyed by its path under `docs/`.
pub fn render_all(examples: &Path) -> BTreeMap<PathBuf, String> {
    let p = MomentoProvider;
    let mut pages = BTreeMap::new();
    let mut index = String::new();
    let _ = write!(
        index,
        "---\npage_title: \"momento provider\"\ndescription: |-\n  {}\n---\n\n# momento provider\n\n{}\n\n",
        Provider::schema(&p).block.description,
        Provider::schema(&p).block.description
    );
    index.push_str(&example(examples, "provider/provider.tf"));
    index.push_str(&attributes_section(&Provider::schema(&p)));
    pages.insert(PathBuf::from("index.md"), index);

    for r in p.resources() {
        let name = r.type_name().to_owned();
        pages.insert(
            PathBuf::from(format!("resources/{}.md", short(&name))),
            page(
                "Resource",
                &name,
                &r.schema(),
                examples,
                &format!("resources/{name}"),
            ),
        );
    }
    for d in p.data_sources() {
        let name = d.type_name().to_owned();
        pages.insert(
            PathBuf::from(format!("data-sources/{}.md", short(&name))),
            page(
                "Data Source",
                &name,
                &d.schema(),
                examples,
                &format!("data-sources/{name}"),
            ),
        );
    }
    for e in p.ephemeral_resources() {
        let name = e.type_name().to_owned();
        pages.insert(
            PathBuf::from(format!("ephemeral-resources/{}.md", short(&name))),
            page(
                "Ephemeral Resource",
                &name,
                &e.schema(),
                examples,
                &format!("ephemeral-resources/{name}"),
            ),
        );
    }
    pages
}

fn short(type_name: &str) -> &str {
    type_name.strip_prefix("momento_").unwrap_or(type_name)
}

fn page(kind: &str, name: &str, schema: &Schema, examples: &Path, example_dir: &str) -> String {
    let mut out = format!(
        "---\npage_title: \"{name} {kind} - momento\"\nsubcategory: \"\"\ndescription: |-\n  {}\n---\n\n# {name} ({kind})\n\n{}\n\n",
        schema.block.description, schema.block.description
    );
    let file = if kind == "Data Source" {
        "data-source.tf"
    } else if kind == "Ephemeral Resource" {
        "ephemeral-resource.tf"
    } else {
        "resource.tf"
    };
    out.push_str(&example(examples, &format!("{example_dir}/{file}")));
    out.push_str(&attributes_section(schema));
    let import = examples.join(example_dir).join("import.sh");
    if let Ok(script) = std::fs::read_to_string(&import) {
        let _ = write!(
            out,
            "\n## Import\n\nImport is supported using the following syntax:\n\n```shell\n{}\n```\n",
            script.trim_end()
        );
    }
    out
}

fn example(examples: &Path, rel: &str) -> String {
    match std::fs::read_to_string(examples.join(rel)) {
        Ok(hcl) => format!(
            "## Example Usage\n\n```terraform\n{}\n```\n\n",
            hcl.trim_end()
        ),
        Err(_) => String::new(),
    }
}

fn attributes_section(schema: &Schema) -> String {
    let mut out = String::from(
        "<!-- schema generated from the provider's code: do not edit -->\n## Schema\n",
    );
    let mut nested = Vec::new();
    render_groups(&schema.block.attributes, &mut out, &mut nested);
    while let Some((path, attrs)) = nested.pop() {
        let _ = write!(
            out,
            "\n<a id=\"nestedatt--{}\"></a>\n### Nested Schema for `{path}`\n",
            path.replace('.', "--")
        );
        render_groups(attrs, &mut out, &mut nested);
    }
    out
}

/// A section title and which attributes it lists.
type Group = (&'static str, fn(&Attribute) -> bool);

fn render_groups<'a>(
    attrs: &'a [Attribute],
    out: &mut String,
    nested: &mut Vec<(String, &'a [Attribute])>,
) {
    let groups: [Group; 3] = [
        ("Required", |a| a.mode == Mode::Required),
        ("Optional", |a| {
            matches!(a.mode, Mode::Optional | Mode::OptionalComputed)
        }),
        ("Read-Only", |a| a.mode == Mode::Computed),
    ];
    for (title, pick) in groups {
        let members: Vec<&Attribute> = attrs.iter().filter(|a| pick(a)).collect();
        if members.is_empty() {
            continue;
        }
        let _ = write!(out, "\n### {title}\n\n");
        for a in members {
            let mut notes = vec![type_label(a)];
            if a.sensitive {
                notes.push("Sensitive".into());
            }
            if a.write_only {
                notes.push("Write-only".into());
            }
            if a.requires_replace {
                notes.push("Forces replacement".into());
            }
            if a.deprecated {
                notes.push("Deprecated".into());
            }
            let _ = writeln!(
                out,
                "- `{}` ({}) {}",
                a.name,
                notes.join(", "),
                a.description
            );
            if let AttributeKind::Nested { attributes, .. } = &a.kind {
                let _ = writeln!(
                    out,
                    "  (see [below for nested schema](#nestedatt--{}))",
                    a.name
                );
                nested.push((a.name.clone(), attributes));
            }
        }
    }
}

fn type_label(a: &Attribute) -> String {
    match &a.kind {
        AttributeKind::Type(t) => t.to_string(),
        AttributeKind::Nested { nesting, .. } => match nesting {
            Nesting::Single | Nesting::Group => "Attributes".into(),
            Nesting::List => "Attributes List".into(),
            Nesting::Set => "Attributes Set".into(),
            Nesting::Map => "Attributes Map".into(),
        },
    }
}
