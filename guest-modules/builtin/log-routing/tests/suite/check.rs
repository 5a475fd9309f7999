//! Checks a parsed Alloy file against the reference of the components it uses: known
//! component types with identifier labels, only documented arguments and blocks (required
//! ones present, none twice), references that name a defined component and one of its
//! exports of the right type, known standard library calls, and no component left unused.
//!
//! The argument and block names come from Grafana Alloy's reference pages and component
//! sources of the release the kit runs (v1.18.1): discovery.kubernetes, discovery.relabel,
//! local.file_match, loki.source.file, loki.process, loki.write, otelcol.receiver.loki,
//! otelcol.storage.file, otelcol.exporter.awss3.

use std::collections::{BTreeMap, BTreeSet};

use crate::syntax::{Expr, Stmt, parse};

/// What an export is, so that an argument can only take exports of the kind it consumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Targets,
    LogsReceiver,
    OtelConsumer,
    Rules,
    StorageHandler,
}

struct Schema {
    attrs: &'static [&'static str],
    required: &'static [&'static str],
    blocks: &'static [(&'static str, &'static Schema)],
    required_blocks: &'static [&'static str],
}

const fn schema(attrs: &'static [&'static str], required: &'static [&'static str]) -> Schema {
    Schema {
        attrs,
        required,
        blocks: &[],
        required_blocks: &[],
    }
}

/// A component's stability in Alloy: Alloy refuses a config using a component below its
/// `--stability.level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stability {
    Experimental,
    PublicPreview,
    GenerallyAvailable,
}

impl Stability {
    /// The level a `--stability.level` value admits; Alloy's default is GA.
    pub fn from_flag(value: Option<&str>) -> Self {
        match value {
            Some("experimental") => Self::Experimental,
            Some("public-preview") => Self::PublicPreview,
            None | Some("generally-available") => Self::GenerallyAvailable,
            Some(other) => panic!("`--stability.level={other}` is not a level Alloy knows"),
        }
    }

    /// The `--stability.level` value that admits this level.
    pub fn flag_value(self) -> &'static str {
        match self {
            Self::Experimental => "experimental",
            Self::PublicPreview => "public-preview",
            Self::GenerallyAvailable => "generally-available",
        }
    }
}

struct Component {
    name: &'static str,
    stability: Stability,
    schema: &'static Schema,
    exports: &'static [(&'static str, Kind)],
}

static SELECTORS: Schema = schema(&["role", "label", "field"], &["role"]);
static NAMESPACES: Schema = schema(&["own_namespace", "names"], &[]);
static ATTACH_METADATA: Schema = schema(&["node", "namespace"], &[]);
static DISCOVERY_KUBERNETES: Schema = Schema {
    attrs: &["role", "api_server", "kubeconfig_file"],
    required: &["role"],
    blocks: &[
        ("selectors", &SELECTORS),
        ("namespaces", &NAMESPACES),
        ("attach_metadata", &ATTACH_METADATA),
    ],
    required_blocks: &[],
};

static RULE: Schema = schema(
    &[
        "action",
        "modulus",
        "regex",
        "replacement",
        "separator",
        "source_labels",
        "target_label",
    ],
    &[],
);
static DISCOVERY_RELABEL: Schema = Schema {
    attrs: &["targets"],
    required: &["targets"],
    blocks: &[("rule", &RULE)],
    required_blocks: &[],
};

static FILE_MATCH: Schema = schema(
    &["path_targets", "ignore_older_than", "sync_period"],
    &["path_targets"],
);

static DECOMPRESSION: Schema = schema(
    &["enabled", "format", "initial_delay"],
    &["enabled", "format"],
);
static FILE_WATCH: Schema = schema(&["min_poll_frequency", "max_poll_frequency"], &[]);
static SOURCE_FILE_MATCH: Schema = schema(&["enabled", "ignore_older_than", "sync_period"], &[]);
static SOURCE_FILE: Schema = Schema {
    attrs: &[
        "targets",
        "forward_to",
        "encoding",
        "legacy_positions_file",
        "on_positions_file_error",
        "tail_from_end",
    ],
    required: &["targets", "forward_to"],
    blocks: &[
        ("decompression", &DECOMPRESSION),
        ("file_watch", &FILE_WATCH),
        ("file_match", &SOURCE_FILE_MATCH),
    ],
    required_blocks: &[],
};

static STAGE_MATCH: Schema = Schema {
    attrs: &["selector", "pipeline_name", "action", "drop_counter_reason"],
    required: &["selector"],
    blocks: STAGES,
    required_blocks: &[],
};
static STAGE_CRI: Schema = schema(
    &[
        "max_partial_lines",
        "max_partial_line_size",
        "max_partial_line_size_truncate",
    ],
    &[],
);
static STAGE_MULTILINE: Schema = schema(
    &["firstline", "max_lines", "max_wait_time", "trim_newlines"],
    &["firstline"],
);
static STAGE_JSON: Schema = schema(
    &["expressions", "source", "drop_malformed"],
    &["expressions"],
);
static STAGE_LOGFMT: Schema = schema(&["mapping", "source"], &["mapping"]);
static STAGE_LABELS: Schema = schema(&["values", "source_type"], &["values"]);
static STAGE_LABEL_DROP: Schema = schema(&["values"], &[]);
static STAGE_STATIC_LABELS: Schema = schema(&["values"], &[]);
static STAGES: &[(&str, &Schema)] = &[
    ("stage.cri", &STAGE_CRI),
    ("stage.multiline", &STAGE_MULTILINE),
    ("stage.match", &STAGE_MATCH),
    ("stage.json", &STAGE_JSON),
    ("stage.logfmt", &STAGE_LOGFMT),
    ("stage.labels", &STAGE_LABELS),
    ("stage.label_drop", &STAGE_LABEL_DROP),
    ("stage.static_labels", &STAGE_STATIC_LABELS),
];
static LOKI_PROCESS: Schema = Schema {
    attrs: &["forward_to"],
    required: &["forward_to"],
    blocks: STAGES,
    required_blocks: &[],
};

static ENDPOINT: Schema = schema(
    &[
        "url",
        "name",
        "tenant_id",
        "headers",
        "batch_wait",
        "batch_size",
        "remote_timeout",
        "bearer_token",
        "bearer_token_file",
        "min_backoff_period",
        "max_backoff_period",
        "max_backoff_retries",
        "retry_on_http_429",
    ],
    &["url"],
);
static LOKI_WRITE: Schema = Schema {
    attrs: &["external_labels", "max_streams"],
    required: &[],
    blocks: &[("endpoint", &ENDPOINT)],
    required_blocks: &[],
};

static OUTPUT: Schema = schema(&["logs", "metrics", "traces"], &[]);
static RECEIVER_LOKI: Schema = Schema {
    attrs: &[],
    required: &[],
    blocks: &[("output", &OUTPUT)],
    required_blocks: &["output"],
};

static COMPACTION: Schema = schema(
    &[
        "check_interval",
        "cleanup_on_start",
        "directory",
        "max_transaction_size",
        "on_rebound",
        "on_start",
        "rebound_needed_threshold_mib",
        "rebound_trigger_threshold_mib",
    ],
    &[],
);
static DEBUG_METRICS: Schema = schema(&["disable_high_cardinality_metrics"], &[]);
static STORAGE_FILE: Schema = Schema {
    attrs: &[
        "create_directory",
        "directory",
        "directory_permissions",
        "fsync",
        "timeout",
    ],
    required: &[],
    blocks: &[
        ("compaction", &COMPACTION),
        ("debug_metrics", &DEBUG_METRICS),
    ],
    required_blocks: &[],
};

static S3_UPLOADER: Schema = schema(
    &[
        "region",
        "s3_bucket",
        "s3_prefix",
        "s3_base_prefix",
        "s3_partition_format",
        "s3_partition_timezone",
        "role_arn",
        "file_prefix",
        "endpoint",
        "s3_force_path_style",
        "disable_ssl",
        "compression",
        "acl",
        "storage_class",
        "unique_key_func_name",
        "retry_mode",
        "retry_max_attempts",
        "retry_max_backoff",
    ],
    &["s3_bucket", "s3_prefix"],
);
static MARSHALER: Schema = schema(&["type"], &[]);
static QUEUE_BATCH: Schema = schema(&["flush_timeout", "min_size", "max_size", "sizer"], &[]);
static SENDING_QUEUE: Schema = Schema {
    attrs: &[
        "enabled",
        "num_consumers",
        "queue_size",
        "block_on_overflow",
        "sizer",
        "wait_for_result",
        "storage",
    ],
    required: &[],
    blocks: &[("batch", &QUEUE_BATCH)],
    required_blocks: &[],
};
static EXPORTER_AWSS3: Schema = Schema {
    attrs: &["timeout"],
    required: &[],
    blocks: &[
        ("s3_uploader", &S3_UPLOADER),
        ("marshaler", &MARSHALER),
        ("debug_metrics", &DEBUG_METRICS),
        ("sending_queue", &SENDING_QUEUE),
    ],
    required_blocks: &["s3_uploader"],
};

static COMPONENTS: &[Component] = &[
    Component {
        name: "discovery.kubernetes",
        stability: Stability::GenerallyAvailable,
        schema: &DISCOVERY_KUBERNETES,
        exports: &[("targets", Kind::Targets)],
    },
    Component {
        name: "discovery.relabel",
        stability: Stability::GenerallyAvailable,
        schema: &DISCOVERY_RELABEL,
        exports: &[("output", Kind::Targets), ("rules", Kind::Rules)],
    },
    Component {
        name: "local.file_match",
        stability: Stability::GenerallyAvailable,
        schema: &FILE_MATCH,
        exports: &[("targets", Kind::Targets)],
    },
    Component {
        name: "loki.source.file",
        stability: Stability::GenerallyAvailable,
        schema: &SOURCE_FILE,
        exports: &[],
    },
    Component {
        name: "loki.process",
        stability: Stability::GenerallyAvailable,
        schema: &LOKI_PROCESS,
        exports: &[("receiver", Kind::LogsReceiver)],
    },
    Component {
        name: "loki.write",
        stability: Stability::GenerallyAvailable,
        schema: &LOKI_WRITE,
        exports: &[("receiver", Kind::LogsReceiver)],
    },
    Component {
        name: "otelcol.receiver.loki",
        stability: Stability::GenerallyAvailable,
        schema: &RECEIVER_LOKI,
        exports: &[("receiver", Kind::LogsReceiver)],
    },
    Component {
        name: "otelcol.storage.file",
        stability: Stability::PublicPreview,
        schema: &STORAGE_FILE,
        exports: &[("handler", Kind::StorageHandler)],
    },
    Component {
        name: "otelcol.exporter.awss3",
        stability: Stability::Experimental,
        schema: &EXPORTER_AWSS3,
        exports: &[("input", Kind::OtelConsumer)],
    },
];

/// Standard library functions and constants the config may use.
const FUNCTIONS: &[&str] = &["sys.env", "coalesce"];
const CONSTANTS: &[&str] = &["constants.hostname", "constants.os", "constants.arch"];

/// What an argument consumes: a single value of a kind, or a list of them.
fn consumes(block: &str, attr: &str) -> Option<(Kind, bool)> {
    match (block, attr) {
        (_, "targets" | "path_targets") => Some((Kind::Targets, false)),
        ("sending_queue", "storage") => Some((Kind::StorageHandler, false)),
        (_, "forward_to") => Some((Kind::LogsReceiver, true)),
        ("output", "logs" | "metrics" | "traces") => Some((Kind::OtelConsumer, true)),
        _ => None,
    }
}

/// A checked file: its components, by `type.label`.
pub struct Checked {
    pub statements: Vec<Stmt>,
}

impl Checked {
    /// The least stable component the file uses: what `--stability.level` must admit.
    pub fn least_stability(&self) -> Stability {
        self.statements
            .iter()
            .filter_map(|stmt| match stmt {
                Stmt::Block { name, .. } => COMPONENTS.iter().find(|c| c.name == name),
                Stmt::Attr { .. } => None,
            })
            .map(|component| component.stability)
            .min()
            .unwrap_or(Stability::GenerallyAvailable)
    }

    /// The top-level block defining `type.label`.
    pub fn component(&self, id: &str) -> Option<&Stmt> {
        self.statements
            .iter()
            .find(|stmt| component_id(stmt).as_deref() == Some(id))
    }

    /// Every component of a type, in file order.
    pub fn components_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Stmt> {
        self.statements
            .iter()
            .filter(move |stmt| matches!(stmt, Stmt::Block { name, .. } if name == kind))
    }
}

pub fn component_id(stmt: &Stmt) -> Option<String> {
    match stmt {
        Stmt::Block {
            name,
            label: Some(label),
            ..
        } => Some(format!("{name}.{label}")),
        _ => None,
    }
}

/// Parses and checks a whole file; every problem found is reported.
pub fn check(text: &str) -> Result<Checked, Vec<String>> {
    let statements = parse(text).map_err(|error| vec![format!("syntax: {error}")])?;
    let mut problems = Vec::new();
    let defined = define_components(&statements, &mut problems);
    let mut used = BTreeSet::new();
    for stmt in &statements {
        let Stmt::Block { name, body, .. } = stmt else {
            problems.push("top-level attributes are not components".into());
            continue;
        };
        if let Some(component) = COMPONENTS.iter().find(|c| c.name == name) {
            let context = Context {
                defined: &defined,
                used: &mut used,
                problems: &mut problems,
            };
            check_body(body, component.schema, name, context);
        }
    }
    for (id, component) in &defined {
        let consumed = !component.exports.is_empty();
        if consumed && !used.contains(id) {
            problems.push(format!("{id} is defined but nothing uses it"));
        }
    }
    if problems.is_empty() {
        Ok(Checked { statements })
    } else {
        Err(problems)
    }
}

fn define_components(
    statements: &[Stmt],
    problems: &mut Vec<String>,
) -> BTreeMap<String, &'static Component> {
    let mut defined = BTreeMap::new();
    for stmt in statements {
        let Stmt::Block {
            name, label, line, ..
        } = stmt
        else {
            continue;
        };
        let Some(component) = COMPONENTS.iter().find(|c| c.name == name) else {
            problems.push(format!("line {line}: unknown component `{name}`"));
            continue;
        };
        let Some(label) = label else {
            problems.push(format!("line {line}: component `{name}` needs a label"));
            continue;
        };
        if !is_identifier(label) {
            problems.push(format!("line {line}: label {label:?} is not an identifier"));
        }
        if defined
            .insert(format!("{name}.{label}"), component)
            .is_some()
        {
            problems.push(format!("line {line}: {name}.{label} is defined twice"));
        }
    }
    defined
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

struct Context<'a, 'b> {
    defined: &'a BTreeMap<String, &'static Component>,
    used: &'b mut BTreeSet<String>,
    problems: &'b mut Vec<String>,
}

impl Context<'_, '_> {
    fn reborrow(&mut self) -> Context<'_, '_> {
        Context {
            defined: self.defined,
            used: self.used,
            problems: self.problems,
        }
    }
}

fn check_body(body: &[Stmt], schema: &Schema, block: &str, mut context: Context) {
    let mut attrs = BTreeSet::new();
    let mut blocks = BTreeSet::new();
    for stmt in body {
        match stmt {
            Stmt::Attr { name, value, line } => {
                if !schema.attrs.contains(&name.as_str()) {
                    context
                        .problems
                        .push(format!("line {line}: `{block}` has no argument `{name}`"));
                }
                if !attrs.insert(name.as_str()) {
                    context
                        .problems
                        .push(format!("line {line}: `{name}` is set twice in `{block}`"));
                }
                let wanted = consumes(block, name);
                check_expr(value, wanted, *line, context.reborrow());
            }
            Stmt::Block {
                name,
                label,
                body,
                line,
            } => {
                blocks.insert(name.as_str());
                if label.is_some() {
                    context
                        .problems
                        .push(format!("line {line}: inner block `{name}` has a label"));
                }
                match schema.blocks.iter().find(|(known, _)| known == name) {
                    Some((_, inner)) => check_body(body, inner, name, context.reborrow()),
                    None => context
                        .problems
                        .push(format!("line {line}: `{block}` has no block `{name}`")),
                }
            }
        }
    }
    for required in schema.required {
        if !attrs.contains(required) {
            context.problems.push(format!(
                "`{block}` misses the required argument `{required}`"
            ));
        }
    }
    for required in schema.required_blocks {
        if !blocks.contains(required) {
            context
                .problems
                .push(format!("`{block}` misses the required block `{required}`"));
        }
    }
}

fn check_expr(expr: &Expr, wanted: Option<(Kind, bool)>, line: usize, mut context: Context) {
    match (expr, wanted) {
        (Expr::List(items), Some((kind, true))) => {
            for item in items {
                check_expr(item, Some((kind, false)), line, context.reborrow());
            }
        }
        (_, Some((_, true))) => context
            .problems
            .push(format!("line {line}: expected a list of references")),
        (Expr::Path(path), wanted) => check_reference(path, wanted.map(|(k, _)| k), line, context),
        (_, Some(_)) => context
            .problems
            .push(format!("line {line}: expected a component reference")),
        (Expr::Call(path, args), None) => {
            let name = path.join(".");
            if !FUNCTIONS.contains(&name.as_str()) {
                context
                    .problems
                    .push(format!("line {line}: unknown function `{name}`"));
            }
            for arg in args {
                check_expr(arg, None, line, context.reborrow());
            }
        }
        (Expr::List(items), None) => {
            for item in items {
                check_expr(item, None, line, context.reborrow());
            }
        }
        (Expr::Object(pairs), None) => {
            for (_, value) in pairs {
                check_expr(value, None, line, context.reborrow());
            }
        }
        (Expr::Unary(_, inner), None) => check_expr(inner, None, line, context),
        (Expr::Binary(left, _, right), None) => {
            check_expr(left, None, line, context.reborrow());
            check_expr(right, None, line, context);
        }
        (Expr::Str(_) | Expr::Number(_) | Expr::Bool(_) | Expr::Null, None) => {}
    }
}

/// `type.label.export`: the component must be defined and export a value of the kind the
/// argument consumes.
fn check_reference(path: &[String], wanted: Option<Kind>, line: usize, context: Context) {
    let text = path.join(".");
    if CONSTANTS.contains(&text.as_str()) && wanted.is_none() {
        return;
    }
    let Some((id, export)) = text.rsplit_once('.') else {
        context
            .problems
            .push(format!("line {line}: `{text}` is not a reference"));
        return;
    };
    let Some(component) = context.defined.get(id) else {
        context.problems.push(format!(
            "line {line}: `{text}` names an undefined component `{id}`"
        ));
        return;
    };
    context.used.insert(id.to_owned());
    match component.exports.iter().find(|(name, _)| *name == export) {
        None => context
            .problems
            .push(format!("line {line}: `{id}` exports no `{export}`")),
        Some((_, kind)) if wanted.is_some_and(|wanted| wanted != *kind) => context.problems.push(
            format!("line {line}: `{text}` is a {kind:?}, expected {wanted:?}"),
        ),
        Some(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
discovery.kubernetes "pods" {
	role = "pod"

	selectors {
		role  = "pod"
		field = "spec.nodeName=" + sys.env("NODE_NAME")
	}
}

discovery.relabel "pods" {
	targets = discovery.kubernetes.pods.targets

	rule {
		source_labels = ["__meta_kubernetes_pod_uid"]
		target_label  = "__path__"
	}
}

local.file_match "pods" {
	path_targets = discovery.relabel.pods.output
}

loki.source.file "pods" {
	targets    = local.file_match.pods.targets
	forward_to = [loki.process.p.receiver]
}

loki.process "p" {
	forward_to = [loki.write.w.receiver, otelcol.receiver.loki.r.receiver]

	stage.cri { }
}

loki.write "w" {
	endpoint {
		url = "http://loki"
	}
}

otelcol.receiver.loki "r" {
	output {
		logs = [otelcol.exporter.awss3.s.input]
	}
}

otelcol.storage.file "q" { }

otelcol.exporter.awss3 "s" {
	s3_uploader {
		s3_bucket = "b"
		s3_prefix = "p"
	}

	sending_queue {
		storage = otelcol.storage.file.q.handler
	}
}
"#;

    fn problems(text: &str) -> Vec<String> {
        check(text).err().unwrap_or_default()
    }

    #[test]
    fn accepts_a_well_formed_pipeline() {
        assert_eq!(problems(VALID), Vec::<String>::new());
    }

    #[test]
    fn reports_undefined_and_mistyped_references() {
        let undefined = VALID.replace("[loki.process.p.receiver]", "[loki.process.q.receiver]");
        assert!(
            problems(&undefined)
                .iter()
                .any(|p| p.contains("undefined component `loki.process.q`"))
        );
        let bad_export = VALID.replace(
            "otelcol.exporter.awss3.s.input",
            "otelcol.exporter.awss3.s.receiver",
        );
        assert!(
            problems(&bad_export)
                .iter()
                .any(|p| p.contains("exports no `receiver`"))
        );
        let wrong_kind = VALID.replace("local.file_match.pods.targets", "loki.process.p.receiver");
        assert!(
            problems(&wrong_kind)
                .iter()
                .any(|p| p.contains("expected Some(Targets)"))
        );
    }

    #[test]
    fn reports_unknown_arguments_blocks_and_missing_requirements() {
        let typo = VALID.replace("s3_bucket", "s3bucket");
        let found = problems(&typo);
        assert!(
            found.iter().any(|p| p.contains("no argument `s3bucket`")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|p| p.contains("required argument `s3_bucket`")),
            "{found:?}"
        );
        let block = VALID.replace("endpoint {", "endpiont {");
        assert!(
            problems(&block)
                .iter()
                .any(|p| p.contains("no block `endpiont`"))
        );
        let no_uploader = VALID.replace("s3_uploader", "marshaler");
        assert!(
            problems(&no_uploader)
                .iter()
                .any(|p| p.contains("required block `s3_uploader`"))
        );
    }

    #[test]
    fn reports_unused_and_duplicate_components_and_bad_labels() {
        let unused = format!("{VALID}\nloki.write \"spare\" {{ }}\n");
        assert!(
            problems(&unused)
                .iter()
                .any(|p| p.contains("loki.write.spare is defined but nothing uses it"))
        );
        let twice = format!("{VALID}\nloki.write \"w\" {{ }}\n");
        assert!(problems(&twice).iter().any(|p| p.contains("defined twice")));
        let label = VALID.replace("loki.write \"w\"", "loki.write \"w-1\"");
        assert!(
            problems(&label)
                .iter()
                .any(|p| p.contains("not an identifier"))
        );
        let function = VALID.replace("sys.env(", "system.env(");
        assert!(
            problems(&function)
                .iter()
                .any(|p| p.contains("unknown function"))
        );
    }
}
