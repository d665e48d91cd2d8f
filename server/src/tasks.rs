//! Maintenance tasks run instead of serving (`dployr-server <task>`).

use anyhow::Context;
use control::secrets::rotation;
use control::{Base, BaseConfig};

use crate::config::{Config, Task};

pub async fn run(config: &Config, task: &Task) -> anyhow::Result<()> {
    match task {
        Task::RotateKey => rotate_key(config).await,
    }
}

/// A new master key, and every secret sealed again under it in one transaction; the key files
/// swap only after the commit (see `control::secrets::rotation`).
async fn rotate_key(config: &Config) -> anyhow::Result<()> {
    let store = config.open_store().await?;
    let (keyring, files) =
        rotation::begin(&config.data_dir, &config.key_settings()).context("making the new key")?;
    let new_id = keyring.current_id().to_string();
    let base = Base::new(store.clone(), BaseConfig::new("http://127.0.0.1".parse()?))
        .with_keyring(keyring);
    let n = base
        .reseal_secrets()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("sealing the secrets again (nothing was changed)")?;
    store.close().await;
    match files {
        Some(rotation) => {
            let kept = rotation.finish().context("making the new key current")?;
            println!(
                "sealed {n} secrets under the new key {new_id}; the old key is kept as {} \
                 (delete it once you no longer need older backups of the database)",
                kept.display()
            );
        }
        None => println!("sealed {n} secrets under the key in DPLOYR_MASTER_KEY ({new_id})"),
    }
    Ok(())
}
