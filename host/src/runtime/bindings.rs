//! The module boundary, one versioned place: wasmtime's bindings of every released contract
//! version in `wit/<version>/` that this host runs, the conversions between their generated
//! types and the host's own model (`model.rs`), and [`Bound`], a loaded module's bindings,
//! which calls it in the host's types whichever version it was built for.
//!
//! Releasing a new contract version: add `wit/<new>/`, a `v<new>` module here with its
//! bindgen and conversions (`shared_conversions!`, extended for what changed), a
//! [`Bound`] variant, and its entry last in [`CONTRACTS`]; `contract.rs` reads the versions
//! from the WIT texts (the `package` line is the one source of a version number).

use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use super::model::{Context, Diagnostic, ModuleInfo, Output};
use super::sandbox::Sandbox;

/// A released contract version this host has bindings for.
pub(super) struct Contract {
    /// Its WIT text, whose `package` line names the version.
    pub wit: &'static str,
    bind: fn(InstancePre<Sandbox>) -> wasmtime::Result<Bound>,
}

impl Contract {
    /// The bindings of this version for a module pre-instantiated with [`add_to_linker`]'s
    /// linker; fails when the module does not export this version's world.
    pub(super) fn bind(&self, pre: InstancePre<Sandbox>) -> wasmtime::Result<Bound> {
        (self.bind)(pre)
    }
}

/// Every contract version this host has bindings for, oldest first.
pub(super) const CONTRACTS: &[Contract] = &[
    Contract {
        wit: v0_1_0::WIT,
        bind: |pre| Ok(Bound::V0_1_0(v0_1_0::TransformerPre::new(pre)?)),
    },
    Contract {
        wit: v0_2_0::WIT,
        bind: |pre| Ok(Bound::V0_2_0(v0_2_0::TransformerPre::new(pre)?)),
    },
];

/// Grants every bound version's `host` interface (each version's is its own import).
pub(super) fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    v0_1_0::Transformer::add_to_linker::<_, HasSelf<_>>(linker, |sandbox| sandbox)?;
    v0_2_0::Transformer::add_to_linker::<_, HasSelf<_>>(linker, |sandbox| sandbox)?;
    Ok(())
}

/// A loaded module's bindings: those of the contract version it was built for.
pub(super) enum Bound {
    V0_1_0(v0_1_0::TransformerPre<Sandbox>),
    V0_2_0(v0_2_0::TransformerPre<Sandbox>),
}

/// Instantiates the module in `$store` with its version's bindings and evaluates `$call`
/// with `$instance` bound to it: one expression for every version, since each version's
/// conversions have the same names.
macro_rules! with_instance {
    ($bound:expr, $store:expr, |$instance:ident| $call:expr) => {
        match $bound {
            Bound::V0_1_0(pre) => {
                let $instance = pre.instantiate(&mut *$store)?;
                $call
            }
            Bound::V0_2_0(pre) => {
                let $instance = pre.instantiate(&mut *$store)?;
                $call
            }
        }
    };
}

impl Bound {
    pub(super) fn describe(&self, store: &mut Store<Sandbox>) -> wasmtime::Result<ModuleInfo> {
        with_instance!(self, store, |instance| Ok(instance
            .call_describe(&mut *store)?
            .into()))
    }

    pub(super) fn validate_config(
        &self,
        store: &mut Store<Sandbox>,
        config: &str,
    ) -> wasmtime::Result<Vec<Diagnostic>> {
        with_instance!(self, store, |instance| Ok(convert_all(
            instance.call_validate_config(&mut *store, config)?
        )))
    }

    pub(super) fn transform(
        &self,
        store: &mut Store<Sandbox>,
        ctx: &Context,
        resources: &[String],
    ) -> wasmtime::Result<Result<Output, Vec<Diagnostic>>> {
        with_instance!(self, store, |instance| {
            let result = instance.call_transform(&mut *store, &ctx.into(), resources)?;
            Ok(result.map(Output::from).map_err(convert_all))
        })
    }
}

fn convert_all<T: Into<U>, U>(items: Vec<T>) -> Vec<U> {
    items.into_iter().map(Into::into).collect()
}

/// The conversions of the version's types to and from the model, and the sandbox's side of
/// its `host` interface. Expanded inside each version's module, next to its generated
/// types; `$code` reads a diagnostic's code (0.2.0 on) or says there is none.
macro_rules! shared_conversions {
    ($code:expr) => {
        use super::super::model;
        use super::super::sandbox::Sandbox;
        use super::convert_all;
        use argocd::wasm_plugin::host::{self, LogLevel};
        use argocd::wasm_plugin::types::{
            self, AppInfo, ObjectRef, Parameter, ParameterAnnouncement, ParameterKind,
            ParameterValue, Severity,
        };

        impl From<&model::Context> for Context {
            fn from(ctx: &model::Context) -> Self {
                Self {
                    step: ctx.step.clone(),
                    app: (&ctx.app).into(),
                    config: ctx.config.clone(),
                    parameters: ctx.parameters.iter().map(Parameter::from).collect(),
                    env: ctx.env.clone(),
                }
            }
        }

        impl From<&model::AppInfo> for AppInfo {
            fn from(app: &model::AppInfo) -> Self {
                Self {
                    name: app.name.clone(),
                    namespace: app.namespace.clone(),
                    project: app.project.clone(),
                    revision: app.revision.clone(),
                    revision_short: app.revision_short.clone(),
                    source_path: app.source_path.clone(),
                    source_repo_url: app.source_repo_url.clone(),
                    source_target_revision: app.source_target_revision.clone(),
                    kube_version: app.kube_version.clone(),
                    kube_api_versions: app.kube_api_versions.clone(),
                }
            }
        }

        impl From<&model::Parameter> for Parameter {
            fn from(parameter: &model::Parameter) -> Self {
                Self {
                    name: parameter.name.clone(),
                    value: match &parameter.value {
                        model::ParameterValue::String(text) => ParameterValue::String(text.clone()),
                        model::ParameterValue::Array(items) => ParameterValue::Array(items.clone()),
                        model::ParameterValue::Map(pairs) => ParameterValue::Map(pairs.clone()),
                    },
                }
            }
        }

        impl From<ParameterValue> for model::ParameterValue {
            fn from(value: ParameterValue) -> Self {
                match value {
                    ParameterValue::String(text) => Self::String(text),
                    ParameterValue::Array(items) => Self::Array(items),
                    ParameterValue::Map(pairs) => Self::Map(pairs),
                }
            }
        }

        impl From<ParameterKind> for model::ParameterKind {
            fn from(kind: ParameterKind) -> Self {
                match kind {
                    ParameterKind::String => Self::String,
                    ParameterKind::Array => Self::Array,
                    ParameterKind::Map => Self::Map,
                }
            }
        }

        impl From<ParameterAnnouncement> for model::ParameterAnnouncement {
            fn from(announcement: ParameterAnnouncement) -> Self {
                Self {
                    name: announcement.name,
                    title: announcement.title,
                    tooltip: announcement.tooltip,
                    required: announcement.required,
                    kind: announcement.kind.into(),
                    default: announcement.default.map(Into::into),
                }
            }
        }

        impl From<Info> for model::ModuleInfo {
            fn from(info: Info) -> Self {
                Self {
                    name: info.name,
                    version: info.version,
                    description: info.description,
                    parameters: convert_all(info.parameters),
                    reads_kinds: info.reads_kinds,
                }
            }
        }

        impl From<Severity> for model::Severity {
            fn from(severity: Severity) -> Self {
                match severity {
                    Severity::Info => Self::Info,
                    Severity::Warning => Self::Warning,
                    Severity::Error => Self::Error,
                }
            }
        }

        impl From<ObjectRef> for model::ObjectRef {
            fn from(object: ObjectRef) -> Self {
                Self {
                    api_version: object.api_version,
                    kind: object.kind,
                    namespace: object.namespace,
                    name: object.name,
                }
            }
        }

        impl From<Diagnostic> for model::Diagnostic {
            fn from(diagnostic: Diagnostic) -> Self {
                let code: fn(&Diagnostic) -> Option<String> = $code;
                Self {
                    code: code(&diagnostic),
                    severity: diagnostic.severity.into(),
                    message: diagnostic.message,
                    object: diagnostic.object.map(Into::into),
                    field: diagnostic.field,
                }
            }
        }

        impl From<Output> for model::Output {
            fn from(output: Output) -> Self {
                Self {
                    resources: output.resources,
                    diagnostics: convert_all(output.diagnostics),
                }
            }
        }

        impl From<LogLevel> for model::LogLevel {
            fn from(level: LogLevel) -> Self {
                match level {
                    LogLevel::Debug => Self::Debug,
                    LogLevel::Info => Self::Info,
                    LogLevel::Warn => Self::Warn,
                    LogLevel::Error => Self::Error,
                }
            }
        }

        /// The `types` interface defines types only; there is nothing to implement.
        impl types::Host for Sandbox {}

        impl host::Host for Sandbox {
            fn log(&mut self, level: LogLevel, message: String) {
                self.write_log(level.into(), &message);
            }
        }
    };
}

pub(super) mod v0_1_0 {
    wasmtime::component::bindgen!({ path: "../wit/0.1.0", world: "transformer" });

    pub(crate) const WIT: &str = include_str!("../../../wit/0.1.0/transformer.wit");

    // 0.1.0 has no diagnostic codes.
    shared_conversions!(|_| None);
}

pub(super) mod v0_2_0 {
    wasmtime::component::bindgen!({ path: "../wit/0.2.0", world: "transformer" });

    pub(crate) const WIT: &str = include_str!("../../../wit/0.2.0/transformer.wit");

    shared_conversions!(|diagnostic| diagnostic.code.clone());
}
