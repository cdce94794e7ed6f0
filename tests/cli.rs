//! The `voltgate` binary as an admin uses it: config errors, migrate, charger and org helpers.

use std::process::{Command, Output};

fn voltgate(db_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voltgate"));
    // Run where there is no config/default.toml: the built-in defaults must suffice.
    cmd.current_dir(std::env::temp_dir());
    cmd.args(args)
        .env("VOLTGATE__DATABASE__URL", db_url)
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run voltgate")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_config_mistake_stops_start_up_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("VOLTGATE__OCPP__HEARTBEAT_INTERVAL_S", "soon")],
            "heartbeat_interval_s",
        ),
        (&[("VOLTGATE__OCPP__UNKNOWN_CHARGERS", "maybe")], "unknown_chargers"),
        (&[("VOLTGATE__OCPP__SECURITY_PROFILE", "9")], "ocpp.security_profile"),
        (&[("VOLTGATE__OCPP__NO_SUCH_KEY", "1")], "no_such_key"),
    ];
    for (env, key) in cases {
        let out = voltgate(&url, &["serve"], env);
        assert_eq!(out.status.code(), Some(2), "{env:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.to_lowercase().contains(key), "{key} named in: {err}");
    }
    let missing = voltgate(&url, &["serve", "--config", "/nonexistent/voltgate.toml"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/voltgate.toml"));
}

#[test]
fn migrate_then_register_and_list_chargers_and_organisations() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());

    let out = voltgate(&url, &["migrate"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let all = <migration::Migrator as migration::MigratorTrait>::migrations().len();
    assert!(
        stdout(&out).contains(&format!("applied {all} migration")),
        "{}",
        stdout(&out)
    );
    let again = voltgate(&url, &["migrate"], &[]);
    assert!(
        stdout(&again).contains("applied 0 migration"),
        "idempotent: {}",
        stdout(&again)
    );

    let out = voltgate(&url, &["org", "add", "Depot North", "--parent", "Root"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = voltgate(&url, &["org", "list"], &[]);
    assert!(
        stdout(&out).contains("    Depot North"),
        "indented below the root: {}",
        stdout(&out)
    );

    let out = voltgate(
        &url,
        &["charger", "add", "CP-CLI-1", "--organisation", "Depot North"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("password (shown once): "),
        "generated password printed: {}",
        stdout(&out)
    );
    let out = voltgate(
        &url,
        &[
            "charger",
            "add",
            "CP-CLI-2",
            "--organisation",
            "1",
            "--password",
            "given-charger-password",
        ],
        &[],
    );
    assert!(!stdout(&out).contains("shown once"), "{}", stdout(&out));

    let out = voltgate(&url, &["charger", "list"], &[]);
    let list = stdout(&out);
    assert!(list.contains("CP-CLI-1") && list.contains("CP-CLI-2"), "{list}");

    let out = voltgate(&url, &["charger", "add", "CP-CLI-3", "--organisation", "Nowhere"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("Nowhere"), "{}", stderr(&out));
    let out = voltgate(&url, &["charger", "add", "bad:id", "--organisation", "1"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("charger id"), "{}", stderr(&out));
}

#[test]
fn first_start_prints_a_generated_admin_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    let first = voltgate(&url, &["org", "list"], &[]);
    assert!(first.status.success(), "{}", stderr(&first));
    let out = stdout(&first);
    assert_eq!(out.matches("created operator 'admin'").count(), 1, "{out}");
    let second = voltgate(&url, &["org", "list"], &[]);
    assert!(!stdout(&second).contains("created operator"), "only on the first start");
}

fn voltgate_with_stdin(db_url: &str, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_voltgate"))
        .current_dir(std::env::temp_dir())
        .args(args)
        .env("VOLTGATE__DATABASE__URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run voltgate");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("voltgate output")
}

#[tokio::test]
async fn a_locked_out_admin_gets_back_in_with_user_passwd_and_reset_2fa() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());

    // An invited user: the link is printed (no SMTP here).
    let out = voltgate(
        &url,
        &["user", "add", "nina", "--organisation", "Root", "--role", "maintenance"],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("/invitations/"), "{}", stdout(&out));
    assert!(stdout(&out).contains("not e-mailed"), "{}", stdout(&out));
    // With a password from stdin; the policy applies.
    let out = voltgate_with_stdin(
        &url,
        &["user", "add", "olaf", "--organisation", "1", "--password-stdin"],
        "password1\n",
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("password"), "{}", stderr(&out));
    let out = voltgate(
        &url,
        &["user", "add", "olaf", "--organisation", "1", "--role", "chief"],
        &[],
    );
    assert!(!out.status.success(), "unknown role refused");

    let out = voltgate_with_stdin(&url, &["user", "passwd", "admin"], "Rowan-tundra-5523\n");
    assert!(out.status.success(), "{}", stderr(&out));

    let store = voltgate::store::Store::open(&voltgate::config::Config::for_tests(&url).database)
        .await
        .expect("open store");
    let admin = store.user_by_name("admin").await.unwrap().expect("admin");
    let hash = admin.password_hash.clone().expect("hash");
    assert!(voltgate::crypto::verify_password("Rowan-tundra-5523", &hash));
    let nina = store.user_by_name("nina").await.unwrap().expect("nina");
    assert_eq!(nina.password_hash, None);
    assert_eq!(store.memberships(nina.id).await.unwrap().len(), 1);

    // Two-factor on, then reset from the CLI.
    store
        .begin_totp(admin.id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
        .await
        .unwrap();
    assert!(
        store
            .confirm_totp(admin.id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", Vec::new(), "none")
            .await
            .unwrap()
    );
    let on = store.user(admin.id).await.unwrap().expect("admin");
    assert!(on.totp_confirmed_at.is_some());
    let out = voltgate(&url, &["user", "reset-2fa", "admin"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let off = store.user(admin.id).await.unwrap().expect("admin");
    assert!(off.totp_confirmed_at.is_none() && off.totp_secret.is_none());

    let out = voltgate(&url, &["user", "reset-2fa", "nobody"], &[]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("nobody"), "{}", stderr(&out));
}
