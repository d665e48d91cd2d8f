//! Role-based access control: one table maps `role x action -> allowed`, and the only way to get a
//! [`May<A>`] (the proof a domain operation demands) is [`authorize`], which consults it. An
//! operation that takes `May<ManageCluster>` therefore cannot be called without the check.

use std::marker::PhantomData;

use proto::api::Role;

use crate::{Actor, DomainError, Store};

/// An action someone may be allowed to take in a cluster.
pub trait Action {
    /// Stable name, as shown in the permission matrix and audit events.
    const NAME: &'static str;
    /// The roles allowed to take it.
    const ALLOWED: &'static [Role];
}

macro_rules! permission_table {
    ($( $(#[$doc:meta])* $ty:ident = $name:literal => [$($role:ident),*]; )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug)]
            pub enum $ty {}
            impl Action for $ty {
                const NAME: &'static str = $name;
                const ALLOWED: &'static [Role] = &[$(Role::$role),*];
            }
        )*
        /// The whole matrix, in order, for documentation and the dashboard.
        pub const TABLE: &[(&str, &[Role])] = &[$(($name, &[$(Role::$role),*])),*];
    };
}

permission_table! {
    /// See the cluster: overview, instances, services, deployments and their states.
    ViewCluster = "cluster.view" => [Owner, Admin, Member, Guest];
    /// Read the audit events log.
    ViewEvents = "events.view" => [Owner, Admin, Member, Guest];
    /// Rename the cluster and change its settings.
    ManageCluster = "cluster.manage" => [Owner, Admin];
    /// Delete the cluster or transfer its ownership.
    DeleteCluster = "cluster.delete" => [Owner];
    /// Require two-factor sign-in of the cluster's members.
    RequireTwoFactor = "cluster.require_2fa" => [Owner];
    /// See who is in the cluster.
    ViewMembers = "members.view" => [Owner, Admin, Member];
    /// Invite and remove people, change roles of Members and Guests.
    ManageMembers = "members.manage" => [Owner, Admin];
    /// Add and remove instances.
    ManageInstances = "instances.manage" => [Owner, Admin];
    /// Create and delete services, change their settings.
    ManageServices = "services.manage" => [Owner, Admin];
    /// Deploy, cancel, roll back, restart.
    Deploy = "services.deploy" => [Owner, Admin, Member];
    /// Read build and runtime logs.
    ViewLogs = "services.logs" => [Owner, Admin, Member];
    /// Set environment variables and secrets.
    ManageEnv = "services.env" => [Owner, Admin, Member];
    /// Set or remove the variables that change what code runs (`LD_*`, `NODE_OPTIONS`, `PATH`,
    /// …: `proto::loader_env`).
    ManageLoaderEnv = "services.loader_env" => [Owner, Admin];
    /// Open a console on a service or an instance.
    UseConsole = "services.console" => [Owner, Admin];
    /// Browse, download, upload, edit, move and delete a service's files.
    UseFiles = "services.files" => [Owner, Admin];
    /// Create and revoke API tokens.
    ManageTokens = "tokens.manage" => [Owner, Admin];
    /// See the cluster's notification channels (never their secrets) and their deliveries.
    /// Not Guests: a channel's URL or recipients say where the team is reached.
    ViewNotifications = "notifications.view" => [Owner, Admin, Member];
    /// Add, change, remove and test notification channels.
    ManageNotifications = "notifications.manage" => [Owner, Admin];
    /// Scrape the cluster's figures in Prometheus' format (`GET /metrics`, API tokens only).
    ScrapeMetrics = "metrics.scrape" => [Owner, Admin];
    /// Trust CI identity tokens (OIDC issuers and repositories) to act in the cluster.
    ManageOidc = "oidc.manage" => [Owner, Admin];
}

/// Proof that the actor may take action `A` in `cluster_id`. Only [`authorize`] makes one.
#[derive(Debug)]
pub struct May<A: Action> {
    cluster_id: String,
    role: Role,
    _action: PhantomData<A>,
}

impl<A: Action> May<A> {
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }
    pub fn role(&self) -> Role {
        self.role
    }

    /// The same actor's right to `B` in the same cluster, judged from the role this proof
    /// already holds: a caller that checked visibility does not ask the database again.
    pub fn also<B: Action>(&self) -> Result<May<B>, DomainError> {
        if !allows::<B>(self.role) {
            tracing::info!(action = B::NAME, cluster.id = %self.cluster_id, role = ?self.role, "denied");
            return Err(DomainError::Forbidden);
        }
        Ok(May {
            cluster_id: self.cluster_id.clone(),
            role: self.role,
            _action: PhantomData,
        })
    }
}

/// The pure rule, for callers that only need to know (e.g. to show or hide a button).
pub fn allows<A: Action>(role: Role) -> bool {
    A::ALLOWED.contains(&role)
}

/// Looks up the actor's role in the cluster and checks it against the table. A cluster the actor
/// is not a member of is reported as not found, so ids of other teams' clusters leak nothing.
pub async fn authorize<A: Action>(
    store: &Store,
    actor: &Actor,
    cluster_id: &str,
) -> Result<May<A>, DomainError> {
    let mut role = crate::store::memberships::role_of(store.pool(), cluster_id, &actor.user.id)
        .await?
        .ok_or(DomainError::NotFound("cluster"))?;
    // An API token works in its own cluster only, with at most its role (and never more than
    // its creator's role now: roles order most powerful first, so the larger is the lesser).
    if let Some(t) = &actor.token {
        if t.cluster_id != cluster_id {
            return Err(DomainError::NotFound("cluster"));
        }
        role = role.max(t.role);
    }
    if crate::store::two_factor::refused_by_cluster(store.pool(), cluster_id, &actor.user.id)
        .await?
    {
        return Err(DomainError::TwoFactorRequired);
    }
    if !allows::<A>(role) {
        tracing::info!(action = A::NAME, cluster.id = cluster_id, user.id = %actor.user.id, ?role, "denied");
        return Err(DomainError::Forbidden);
    }
    Ok(May {
        cluster_id: cluster_id.to_string(),
        role,
        _action: PhantomData,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_may_do_everything() {
        for (name, roles) in TABLE {
            assert!(roles.contains(&Role::Owner), "{name} denies the owner");
        }
    }

    #[test]
    fn guests_only_read() {
        let guest: Vec<&str> = TABLE
            .iter()
            .filter(|(_, r)| r.contains(&Role::Guest))
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(guest, ["cluster.view", "events.view"]);
    }

    #[test]
    fn members_deploy_but_do_not_manage() {
        assert!(allows::<Deploy>(Role::Member));
        assert!(allows::<ManageEnv>(Role::Member));
        assert!(!allows::<ManageCluster>(Role::Member));
        assert!(!allows::<UseConsole>(Role::Member));
        assert!(!allows::<DeleteCluster>(Role::Admin));
        assert!(allows::<ManageCluster>(Role::Admin));
    }

    #[test]
    fn action_names_are_unique() {
        let mut names: Vec<&str> = TABLE.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLE.len());
    }
}
