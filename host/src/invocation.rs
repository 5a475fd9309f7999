//! What a render knows about the Argo CD Application: app facts, parameters and plugin env.
//!
//! `generate` reads them from the environment Argo CD sets; `render` from flags. Both build
//! the same [`Invocation`], so the same inputs give the same bytes either way.

use std::collections::BTreeMap;

use anyhow::{Context as _, Result, bail};
use serde::Deserialize;

use crate::parameters::ArgocdShapes;
use crate::runtime::{
    AppInfo, Parameter, ParameterAnnouncement, ParameterKind, ParameterValue, RenderBudget,
};

/// Prefix Argo CD puts on each `spec.source.plugin.env` entry.
const PLUGIN_ENV_PREFIX: &str = "ARGOCD_ENV_";

/// Empty by default: no app facts, parameters or env, no budget (a local render).
#[derive(Debug, Clone, Default)]
pub struct Invocation {
    pub app: AppInfo,
    pub parameters: Vec<Parameter>,
    /// Plugin env without the `ARGOCD_ENV_` prefix, sorted by name.
    pub env: Vec<(String, String)>,
    /// How long the whole render may take, and whether its client still waits.
    pub budget: RenderBudget,
}

impl Invocation {
    /// Reads the CMP v2 environment: `ARGOCD_APP_*`, `KUBE_*`, `ARGOCD_APP_PARAMETERS` and
    /// `ARGOCD_ENV_*`. Nothing else of the sidecar's environment reaches a module.
    pub fn from_argocd_env(vars: impl IntoIterator<Item = (String, String)>) -> Result<Self> {
        let vars: BTreeMap<String, String> = vars.into_iter().collect();
        let var = |name: &str| vars.get(name).cloned().unwrap_or_default();
        let app = AppInfo {
            name: var("ARGOCD_APP_NAME"),
            namespace: var("ARGOCD_APP_NAMESPACE"),
            project: var("ARGOCD_APP_PROJECT_NAME"),
            revision: var("ARGOCD_APP_REVISION"),
            revision_short: var("ARGOCD_APP_REVISION_SHORT"),
            source_path: var("ARGOCD_APP_SOURCE_PATH"),
            source_repo_url: var("ARGOCD_APP_SOURCE_REPO_URL"),
            source_target_revision: var("ARGOCD_APP_SOURCE_TARGET_REVISION"),
            kube_version: var("KUBE_VERSION"),
            kube_api_versions: split_api_versions(&var("KUBE_API_VERSIONS")),
        };
        let parameters = match vars.get("ARGOCD_APP_PARAMETERS") {
            Some(json) => parse_argocd_parameters(json).context("ARGOCD_APP_PARAMETERS")?,
            None => Vec::new(),
        };
        let env = vars
            .iter()
            .filter_map(|(name, value)| {
                let name = name.strip_prefix(PLUGIN_ENV_PREFIX)?;
                Some((name.to_owned(), value.clone()))
            })
            .collect();
        Ok(Self {
            app,
            parameters,
            env,
            budget: RenderBudget::unlimited(),
        })
    }
}

fn split_api_versions(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One entry of `ARGOCD_APP_PARAMETERS`: a name and its value in any of Argo CD's shapes.
#[derive(Deserialize)]
struct ArgocdParameter {
    #[serde(default)]
    name: String,
    #[serde(flatten)]
    shapes: ArgocdShapes,
}

impl ArgocdParameter {
    /// One parameter per shape the entry carries, in Argo CD's order (string, map, array);
    /// none for an entry without a value or without a name.
    fn into_shapes(self) -> Vec<Parameter> {
        if self.name.is_empty() {
            return Vec::new();
        }
        let name = self.name;
        self.shapes
            .into_values()
            .into_iter()
            .map(|value| parameter(&name, value))
            .collect()
    }
}

/// Parses `ARGOCD_APP_PARAMETERS`: a JSON array, or the literal `null` Argo CD sends when
/// the Application sets no parameters. A parameter without a value is left out (modules
/// apply their own default, as when it is not set); one with several shapes keeps them all
/// until [`Invocation::parameters_for`] picks the one each module announces.
pub fn parse_argocd_parameters(json: &str) -> Result<Vec<Parameter>> {
    let entries: Option<Vec<ArgocdParameter>> =
        serde_json::from_str(json).context("not the JSON array Argo CD sends")?;
    Ok(entries
        .unwrap_or_default()
        .into_iter()
        .flat_map(ArgocdParameter::into_shapes)
        .collect())
}

impl Invocation {
    /// The parameters one module sees, one per name. A parameter Argo CD sent in several
    /// shapes is narrowed to the shape the module announces for it (the one Argo CD's UI
    /// edits), else to the first sent.
    pub fn parameters_for(&self, announced: &[ParameterAnnouncement]) -> Vec<Parameter> {
        let announces = |parameter: &Parameter| {
            announced.iter().any(|announcement| {
                announcement.name == parameter.name
                    && same_shape(&announcement.kind, &parameter.value)
            })
        };
        let mut chosen: Vec<Parameter> = Vec::new();
        for parameter in &self.parameters {
            match chosen.iter_mut().find(|known| known.name == parameter.name) {
                None => chosen.push(parameter.clone()),
                Some(known) if announces(parameter) && !announces(known) => {
                    *known = parameter.clone();
                }
                Some(_) => {}
            }
        }
        chosen
    }
}

fn same_shape(kind: &ParameterKind, value: &ParameterValue) -> bool {
    matches!(
        (kind, value),
        (ParameterKind::String, ParameterValue::String(_))
            | (ParameterKind::Array, ParameterValue::Array(_))
            | (ParameterKind::Map, ParameterValue::Map(_))
    )
}

/// Builds parameters from `--param` flags: `NAME=VALUE` splits at the first `=`; repeating
/// a name builds an array; `NAME.KEY=VALUE` builds a map. Order of first appearance is kept.
pub fn parse_cli_parameters(flags: &[String]) -> Result<Vec<Parameter>> {
    let mut parameters: Vec<Parameter> = Vec::new();
    for flag in flags {
        let (key, value) = flag
            .split_once('=')
            .with_context(|| format!("--param {flag}: expected NAME=VALUE"))?;
        let (name, map_key) = match key.split_once('.') {
            Some((name, map_key)) => (name, Some(map_key)),
            None => (key, None),
        };
        if name.is_empty() {
            bail!("--param {flag}: the parameter name is empty");
        }
        let existing = parameters
            .iter_mut()
            .find(|parameter| parameter.name == name);
        match (existing, map_key) {
            (None, None) => parameters.push(parameter(name, ParameterValue::String(value.into()))),
            (None, Some(map_key)) => parameters.push(parameter(
                name,
                ParameterValue::Map(vec![(map_key.into(), value.into())]),
            )),
            (Some(parameter), map_key) => add_to_parameter(parameter, map_key, value)
                .with_context(|| format!("--param {flag}"))?,
        }
    }
    for parameter in &mut parameters {
        if let ParameterValue::Map(pairs) = &mut parameter.value {
            pairs.sort();
        }
    }
    Ok(parameters)
}

fn parameter(name: &str, value: ParameterValue) -> Parameter {
    Parameter {
        name: name.to_owned(),
        value,
    }
}

fn add_to_parameter(parameter: &mut Parameter, map_key: Option<&str>, value: &str) -> Result<()> {
    match (&mut parameter.value, map_key) {
        (ParameterValue::String(first), None) => {
            parameter.value = ParameterValue::Array(vec![std::mem::take(first), value.into()]);
        }
        (ParameterValue::Array(items), None) => items.push(value.into()),
        (ParameterValue::Map(pairs), Some(key)) => {
            if pairs.iter().any(|(existing, _)| existing == key) {
                bail!("the map key `{key}` is given twice");
            }
            pairs.push((key.into(), value.into()));
        }
        _ => bail!(
            "`{}` is used both as a map (NAME.KEY=VALUE) and as a string or array",
            parameter.name
        ),
    }
    Ok(())
}

/// Builds the plugin env from `--env NAME=VALUE` flags. `NAME` may carry the
/// `ARGOCD_ENV_` prefix or not: `--env IMAGES=…` and `--env ARGOCD_ENV_IMAGES=…` agree.
pub fn parse_cli_env(flags: &[String]) -> Result<Vec<(String, String)>> {
    let mut env = BTreeMap::new();
    for flag in flags {
        let (name, value) = flag
            .split_once('=')
            .with_context(|| format!("--env {flag}: expected NAME=VALUE"))?;
        let name = name.strip_prefix(PLUGIN_ENV_PREFIX).unwrap_or(name);
        if name.is_empty() {
            bail!("--env {flag}: the variable name is empty");
        }
        env.insert(name.to_owned(), value.to_owned());
    }
    Ok(env.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(parameters: &[Parameter]) -> Vec<(String, ParameterValue)> {
        parameters
            .iter()
            .map(|p| (p.name.clone(), p.value.clone()))
            .collect()
    }

    #[test]
    fn parses_every_argocd_parameter_shape_and_null() {
        let json = r#"[{"name":"a","string":"x=y"},{"name":"b","array":["1","2"]},{"name":"c","map":{"k2":"v2","k1":"v1"}}]"#;
        let parameters = parse_argocd_parameters(json).unwrap();
        assert_eq!(
            values(&parameters),
            [
                ("a".into(), ParameterValue::String("x=y".into())),
                (
                    "b".into(),
                    ParameterValue::Array(vec!["1".into(), "2".into()])
                ),
                (
                    "c".into(),
                    ParameterValue::Map(vec![
                        ("k1".into(), "v1".into()),
                        ("k2".into(), "v2".into())
                    ])
                ),
            ]
        );
        assert!(parse_argocd_parameters("null").unwrap().is_empty());
        assert!(parse_argocd_parameters("{}").is_err());
    }

    fn announcement(name: &str, kind: ParameterKind) -> ParameterAnnouncement {
        ParameterAnnouncement {
            name: name.into(),
            title: String::new(),
            tooltip: String::new(),
            required: false,
            kind,
            default: None,
        }
    }

    #[test]
    fn parameters_without_a_value_are_left_out() {
        let json = r#"[{"name":"a"},{"name":"b","array":null},{"string":"nameless"},{"name":"c","string":""}]"#;
        assert_eq!(
            values(&parse_argocd_parameters(json).unwrap()),
            [("c".into(), ParameterValue::String(String::new()))]
        );
    }

    #[test]
    fn a_parameter_with_several_shapes_gives_each_module_the_shape_it_announces() {
        let json = r#"[{"name":"images","string":"stale","array":["nginx:1.28"]},{"name":"colour","string":"green","map":{"k":"v"}}]"#;
        let invocation = Invocation {
            app: Invocation::from_argocd_env([]).unwrap().app,
            parameters: parse_argocd_parameters(json).unwrap(),
            env: Vec::new(),
            budget: RenderBudget::unlimited(),
        };
        let announced = [announcement("images", ParameterKind::Array)];
        assert_eq!(
            values(&invocation.parameters_for(&announced)),
            [
                (
                    "images".into(),
                    ParameterValue::Array(vec!["nginx:1.28".into()])
                ),
                ("colour".into(), ParameterValue::String("green".into())),
            ]
        );
        assert_eq!(
            values(&invocation.parameters_for(&[]))[0],
            ("images".into(), ParameterValue::String("stale".into()))
        );
    }

    #[test]
    fn cli_parameters_build_strings_arrays_and_maps() {
        let flags = [
            "images=a=b:1",
            "images=c:2",
            "m.k2=v2",
            "m.k1=v1=x",
            "s=one",
        ]
        .map(String::from);
        let parameters = parse_cli_parameters(&flags).unwrap();
        assert_eq!(
            values(&parameters),
            [
                (
                    "images".into(),
                    ParameterValue::Array(vec!["a=b:1".into(), "c:2".into()])
                ),
                (
                    "m".into(),
                    ParameterValue::Map(vec![
                        ("k1".into(), "v1=x".into()),
                        ("k2".into(), "v2".into())
                    ])
                ),
                ("s".into(), ParameterValue::String("one".into())),
            ]
        );
    }

    #[test]
    fn cli_parameters_reject_mixed_shapes_and_bad_syntax() {
        for flags in [
            vec!["a=1", "a.k=2"],
            vec!["noequals"],
            vec!["=x"],
            vec!["m.k=1", "m.k=2"],
        ] {
            let flags: Vec<String> = flags.into_iter().map(String::from).collect();
            assert!(parse_cli_parameters(&flags).is_err(), "{flags:?}");
        }
    }

    #[test]
    fn argocd_env_keeps_only_the_contract_variables() {
        let vars = [
            ("ARGOCD_APP_NAME", "argocd_magento-stage"),
            ("ARGOCD_ENV_IMAGES", "magento=repo/magento:1"),
            ("ARGOCD_APP_PARAMETERS", "null"),
            ("KUBE_API_VERSIONS", "v1,apps/v1"),
            ("HOME", "/home/argocd"),
            ("AWS_SECRET_ACCESS_KEY", "hunter2"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let invocation = Invocation::from_argocd_env(vars).unwrap();
        assert_eq!(invocation.app.name, "argocd_magento-stage");
        assert_eq!(invocation.app.kube_api_versions, ["v1", "apps/v1"]);
        assert_eq!(
            invocation.env,
            [("IMAGES".into(), "magento=repo/magento:1".into())]
        );
        assert!(invocation.parameters.is_empty());
    }

    #[test]
    fn cli_env_accepts_names_with_or_without_the_prefix() {
        let flags = ["ARGOCD_ENV_B=2", "A=x=y"].map(String::from);
        assert_eq!(
            parse_cli_env(&flags).unwrap(),
            [("A".into(), "x=y".into()), ("B".into(), "2".into())]
        );
    }
}
