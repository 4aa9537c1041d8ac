//! `GET /api/access-control/user/permissions`: what the token's service account may do, so
//! that CheckHealth can name the permission that is missing rather than fail later.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{GrafanaClient, GrafanaError};

/// The API path.
pub const PATH: &str = "api/access-control/user/permissions";

/// Each action the product needs, and what for.
pub const NEEDED: [(&str, &str); 4] = [
    ("annotations:read", "import tagged annotations"),
    (
        "dashboards:read",
        "read the teams' dashboards and their annotations",
    ),
    (
        "dashboards:write",
        "read dashboard versions (Grafana asks for edit rights to show a version history)",
    ),
    (
        "datasources:query",
        "evaluate the queries of targets and decisions",
    ),
];

/// The token's permissions: action → scopes.
pub type Permissions = BTreeMap<String, Vec<String>>;

/// The needed actions the permissions lack, with what each is for.
pub fn missing(perms: &Permissions) -> Vec<(&'static str, &'static str)> {
    NEEDED
        .iter()
        .filter(|(action, _)| !perms.contains_key(*action))
        .copied()
        .collect()
}

impl GrafanaClient {
    /// The permissions of the token's service account (also proves the token works).
    pub async fn permissions(&self) -> Result<Permissions, GrafanaError> {
        let answer = self.get_json(PATH, &[], "list its own permissions").await?;
        let o = answer.as_object().ok_or_else(|| GrafanaError::Unexpected {
            path: PATH.into(),
            detail: "expected an object of actions".into(),
        })?;
        Ok(o.iter()
            .map(|(action, scopes)| {
                let scopes = scopes
                    .as_array()
                    .map(|s| {
                        s.iter()
                            .filter_map(Value::as_str)
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default();
                (action.clone(), scopes)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_names_each_absent_action_with_its_use() {
        let mut p = Permissions::new();
        p.insert("annotations:read".into(), vec!["annotations:*".into()]);
        p.insert("dashboards:read".into(), vec!["dashboards:*".into()]);
        let m = missing(&p);
        assert_eq!(
            m.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
            ["dashboards:write", "datasources:query"]
        );
    }
}
