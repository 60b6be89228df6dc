//! Profile parameters as scripts see them (`p.drop_threshold`): a script's declared defaults
//! from `fn params()`, merged with a profile's `params` in `config.toml`.

use rhai::{Dynamic, Engine, EvalAltResult, Map};
use std::rc::Rc;

/// Profile parameters as scripts see them: `p.name` reads one; an unknown name is an error.
#[derive(Clone, Debug)]
pub struct Params(pub(super) Rc<Map>);

/// Makes `p.name` (and `p["name"]`) read a parameter; an unknown name is an error.
pub(super) fn register(engine: &mut Engine) {
    engine.register_type_with_name::<Params>("Params");
    engine.register_indexer_get(
        |p: &mut Params, name: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            p.0.get(name).cloned().ok_or_else(|| {
                let known: Vec<&str> = p.0.keys().map(|k| k.as_str()).collect();
                format!(
                    "unknown parameter `{name}` (this script declares: {})",
                    known.join(", ")
                )
                .into()
            })
        },
    );
}

/// Merges a profile's `params` over a script's declared defaults. A name the script does not
/// declare, or a value whose type does not fit the default, is an error naming the parameter.
/// `script_name` names the script in messages.
pub fn merge(defaults: &Map, script_name: &str, overrides: &toml::Table) -> Result<Map, String> {
    let mut merged = defaults.clone();
    for (key, value) in overrides {
        let Some(default) = defaults.get(key.as_str()) else {
            let known: Vec<&str> = defaults.keys().map(|k| k.as_str()).collect();
            return Err(format!(
                "unknown parameter `{key}` for {} (it declares: {})",
                script_name,
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
        };
        let v = toml_to_dynamic(value);
        let fits = if default.is_float() {
            v.is_float() || v.is_int()
        } else {
            default.type_name() == v.type_name()
        };
        if !fits {
            return Err(format!(
                "parameter `{key}` must be {} like its default `{}`, found `{value}`",
                default.type_name(),
                default
            ));
        }
        let v = if default.is_float() && v.is_int() {
            Dynamic::from_float(v.as_int().unwrap_or(0) as f64)
        } else {
            v
        };
        merged.insert(key.as_str().into(), v);
    }
    Ok(merged)
}

fn toml_to_dynamic(v: &toml::Value) -> Dynamic {
    match v {
        toml::Value::Integer(i) => Dynamic::from_int(*i),
        toml::Value::Float(f) => Dynamic::from_float(*f),
        toml::Value::Boolean(b) => Dynamic::from_bool(*b),
        toml::Value::String(s) => Dynamic::from(s.clone()),
        toml::Value::Array(a) => Dynamic::from_array(a.iter().map(toml_to_dynamic).collect()),
        toml::Value::Table(t) => Dynamic::from_map(
            t.iter()
                .map(|(k, v)| (k.as_str().into(), toml_to_dynamic(v)))
                .collect(),
        ),
        toml::Value::Datetime(d) => Dynamic::from(d.to_string()),
    }
}
