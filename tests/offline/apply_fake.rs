//! The fake cluster the executor's scheduling tests (`apply_executor`) run on: a tiny
//! "world" of named effects that commands create and guards test, reached through the
//! real step encoding (`STEP_SCRIPT`'s positional parameters), with counters of what ran
//! at once.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use brickyard::apply::executor::{BATCH_SCRIPT, STEP_SCRIPT};
use brickyard::apply::{ApplyOptions, Observer, Outcome};
use brickyard::plan::{Action, Address, Guard, Plan, Step};
use brickyard::transport::{Output, RemoteCommand, Transport, TransportError, Transports};

/// Shared state of the fake cluster: effects that exist, and what ran when.
#[derive(Default)]
pub(crate) struct World {
    pub(crate) effects: BTreeSet<String>,
    /// Every command run, in order: (node, argv joined by spaces).
    pub(crate) log: Vec<(String, String)>,
    /// Node-local (not gluster) steps running on each node, and the most at once.
    pub(crate) running_per_node: HashMap<String, usize>,
    pub(crate) max_per_node: HashMap<String, usize>,
    pub(crate) running: usize,
    pub(crate) max_running: usize,
    pub(crate) gluster_running: usize,
    pub(crate) max_gluster: usize,
    pub(crate) down: BTreeSet<String>,
    /// Per step run: (its guard's effect, checked before, checked after).
    pub(crate) checks: Vec<(String, bool, bool)>,
    /// Per batch of steps sent in one round trip: how many steps it held.
    pub(crate) batches: Vec<usize>,
}

#[derive(Clone, Default)]
pub(crate) struct Cluster(Arc<Mutex<World>>);

impl Cluster {
    pub(crate) fn with_effects(effects: &[&str]) -> Self {
        let c = Cluster::default();
        c.0.lock()
            .unwrap()
            .effects
            .extend(effects.iter().map(|e| e.to_string()));
        c
    }
    pub(crate) fn transports(&self, nodes: &[&str]) -> Transports {
        nodes
            .iter()
            .map(|n| {
                let t: Arc<dyn Transport> = Arc::new(FakeNode {
                    name: n.to_string(),
                    world: self.clone(),
                });
                (n.to_string(), t)
            })
            .collect()
    }
    pub(crate) fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.0.lock().unwrap()
    }
    /// Commands (not guards) that ran, as "node: argv".
    pub(crate) fn commands(&self) -> Vec<String> {
        self.world()
            .log
            .iter()
            .filter(|(_, c)| !c.starts_with("test "))
            .map(|(n, c)| format!("{n}: {c}"))
            .collect()
    }
}

pub(crate) struct FakeNode {
    pub(crate) name: String,
    pub(crate) world: Cluster,
}

/// The fake's command language:
/// - `test EFFECT`                    guard: exit 0 iff EFFECT exists
/// - `[gluster] make EFFECT [MS]`     create EFFECT after MS milliseconds
/// - `[gluster] pretend [MS]`         succeed without any effect
/// - `fail CODE MESSAGE`              exit CODE with MESSAGE on stderr
#[async_trait]
impl Transport for FakeNode {
    fn node(&self) -> &str {
        &self.name
    }

    async fn run(&self, cmd: &RemoteCommand) -> Result<Output, TransportError> {
        match cmd.argv.as_slice() {
            [sh, c, script, zero, rest @ ..]
                if sh == "sh" && c == "-c" && script == STEP_SCRIPT && zero == "sh" =>
            {
                self.step(rest).await
            }
            [sh, c, script, zero, ff, step_script, ns, rest @ ..]
                if sh == "sh"
                    && c == "-c"
                    && script == BATCH_SCRIPT
                    && zero == "sh"
                    && step_script == STEP_SCRIPT =>
            {
                self.batch(ff == "1", ns.parse().unwrap(), rest).await
            }
            argv => self.exec(argv).await,
        }
    }
}

impl FakeNode {
    /// What BATCH_SCRIPT does: each step as [`FakeNode::step`], its stderr after
    /// `@@by step J`, its status as `@@by J STATUS`.
    async fn batch(
        &self,
        ff: bool,
        ns: usize,
        mut args: &[String],
    ) -> Result<Output, TransportError> {
        self.world.world().batches.push(ns);
        let (mut stdout, mut stderr) = (String::new(), String::new());
        for j in 0..ns {
            let n: usize = args[0].parse().unwrap();
            let (params, rest) = args[1..].split_at(n);
            args = rest;
            stderr.push_str(&format!("@@by step {j}\n"));
            let out = self.step(params).await?;
            stderr.push_str(&out.stderr_lossy());
            let status = out
                .stdout_lossy()
                .trim()
                .trim_start_matches("@@by ")
                .to_string();
            stdout.push_str(&format!("@@by {j} {status}\n"));
            if ff && status != "done" && status != "already" {
                break;
            }
        }
        Ok(Output {
            status: Some(0),
            stdout: stdout.into_bytes(),
            stderr: stderr.into_bytes(),
        })
    }

    /// What STEP_SCRIPT does, decoded from its positional parameters: the scheduling
    /// tests go through the real encoding (the script itself is tested in a real shell).
    async fn step(&self, args: &[String]) -> Result<Output, TransportError> {
        let mut it = args.iter();
        let take = |it: &mut std::slice::Iter<'_, String>| -> Vec<String> {
            let n: usize = it.next().unwrap().parse().unwrap();
            it.by_ref().take(n).cloned().collect()
        };
        let pre_check = it.next().unwrap() == "1";
        let post_check = it.next().unwrap() == "1";
        let guard = take(&mut it);
        let effect = guard.last().cloned().unwrap_or_default();
        self.world
            .world()
            .checks
            .push((effect, pre_check, post_check));
        let count: usize = it.next().unwrap().parse().unwrap();
        let commands: Vec<Vec<String>> = (0..count).map(|_| take(&mut it)).collect();
        let report = |status: String, stderr: String| Output {
            status: Some(0),
            stdout: format!("@@by {status}\n").into_bytes(),
            stderr: stderr.into_bytes(),
        };
        if pre_check && !guard.is_empty() && self.exec(&guard).await?.success() {
            return Ok(report("already".into(), String::new()));
        }
        let mut stderr = String::new();
        for (k, c) in commands.iter().enumerate() {
            stderr.push_str(&format!("@@by cmd {k}\n"));
            let out = self.exec(c).await?;
            stderr.push_str(&out.stderr_lossy());
            if !out.success() {
                let rc = out.status.unwrap();
                return Ok(report(format!("failed {k} {rc}"), stderr));
            }
        }
        if post_check && !guard.is_empty() {
            stderr.push_str("@@by verify\n");
            let out = self.exec(&guard).await?;
            stderr.push_str(&out.stderr_lossy());
            if !out.success() {
                return Ok(report(
                    format!("unverified {}", out.status.unwrap()),
                    stderr,
                ));
            }
        }
        Ok(report("done".into(), stderr))
    }

    async fn exec(&self, argv: &[String]) -> Result<Output, TransportError> {
        let mut argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let gluster = argv.first() == Some(&"gluster");
        {
            let mut w = self.world.world();
            if w.down.contains(&self.name) {
                return Err(TransportError::Disconnected {
                    node: self.name.clone(),
                    detail: "connection reset by peer".into(),
                });
            }
            w.log.push((self.name.clone(), argv.join(" ")));
        }
        if gluster {
            argv.remove(0);
        }
        let ok = |ok: bool| Output {
            status: Some(if ok { 0 } else { 1 }),
            stdout: vec![],
            stderr: vec![],
        };
        match argv.as_slice() {
            ["test", effect] => Ok(ok(self.world.world().effects.contains(*effect))),
            ["fail", code, msg @ ..] => Ok(Output {
                status: Some(code.parse().unwrap()),
                stdout: vec![],
                stderr: format!("{}\n", msg.join(" ")).into_bytes(),
            }),
            ["make", effect, ms @ ..] => {
                self.busy(gluster, ms).await;
                self.world.world().effects.insert(effect.to_string());
                Ok(ok(true))
            }
            ["pretend", ms @ ..] => {
                self.busy(gluster, ms).await;
                Ok(ok(true))
            }
            other => panic!("fake transport: unknown command {other:?}"),
        }
    }

    /// Takes MS (optional first element) milliseconds, counted as running.
    async fn busy(&self, gluster: bool, ms: &[&str]) {
        let ms: u64 = ms.first().map_or(0, |m| m.parse().unwrap());
        self.enter(gluster);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        self.leave(gluster);
    }
    fn enter(&self, gluster: bool) {
        let mut w = self.world.world();
        if !gluster {
            let n = {
                let c = w.running_per_node.entry(self.name.clone()).or_default();
                *c += 1;
                *c
            };
            let m = w.max_per_node.entry(self.name.clone()).or_default();
            *m = (*m).max(n);
        }
        w.running += 1;
        w.max_running = w.max_running.max(w.running);
        if gluster {
            w.gluster_running += 1;
            w.max_gluster = w.max_gluster.max(w.gluster_running);
        }
    }
    fn leave(&self, gluster: bool) {
        let mut w = self.world.world();
        if !gluster {
            *w.running_per_node.get_mut(&self.name).unwrap() -= 1;
        }
        w.running -= 1;
        if gluster {
            w.gluster_running -= 1;
        }
    }
}

pub(crate) fn argv(s: &str) -> Vec<String> {
    s.split_whitespace().map(String::from).collect()
}

/// A step on `node` whose guard tests `effect` and whose commands are given as strings.
pub(crate) fn step(id: &str, node: &str, effect: &str, commands: &[&str], deps: &[&str]) -> Step {
    Step {
        id: id.into(),
        address: Address::volume(id),
        action: Action::Create,
        node: node.into(),
        description: format!("make {effect}"),
        commands: commands.iter().map(|c| argv(c)).collect(),
        guard: Guard {
            description: format!("{effect} exists"),
            argv: argv(&format!("test {effect}")),
            redundant_when_fresh: false,
        },
        depends_on: deps.iter().map(|d| d.to_string()).collect(),
        destructive: false,
        changes: vec![],
    }
}

/// The usual step: `make EFFECT MS` guarded by `test EFFECT`.
pub(crate) fn mk(id: &str, node: &str, ms: u64, deps: &[&str]) -> Step {
    step(id, node, id, &[&format!("make {id} {ms}")], deps)
}

pub(crate) fn plan(steps: Vec<Step>) -> Plan {
    Plan {
        format_version: brickyard::plan::FORMAT_VERSION,
        cluster: "test".into(),
        cluster_id: None,
        planned_with: Default::default(),
        facts_fingerprint: "f".into(),
        config_hash: "c".into(),
        steps,
        placements: vec![],
        blockers: vec![],
        foreign: vec![],
        warnings: vec![],
        blocked_steps: vec![],
    }
}

pub(crate) fn opts(parallelism: usize) -> ApplyOptions {
    ApplyOptions {
        parallelism,
        ..ApplyOptions::default()
    }
}

/// Records the order steps start and finish in.
#[derive(Default)]
pub(crate) struct Order(Mutex<Vec<String>>);
impl Observer for Order {
    fn started(&self, step: &Step) {
        self.0.lock().unwrap().push(format!("start {}", step.id));
    }
    fn finished(&self, step: &Step, _: &Outcome) {
        self.0.lock().unwrap().push(format!("end {}", step.id));
    }
}
impl Order {
    pub(crate) fn pos(&self, event: &str) -> usize {
        let v = self.0.lock().unwrap();
        v.iter()
            .position(|e| e == event)
            .unwrap_or_else(|| panic!("{event} not in {v:?}"))
    }
}

pub(crate) const NODES: [&str; 6] = ["n1", "n2", "n3", "n4", "n5", "n6"];

/// Runs `steps` as one plan on the fake cluster's six nodes.
pub(crate) async fn run(
    c: &Cluster,
    steps: Vec<Step>,
    o: &ApplyOptions,
) -> brickyard::apply::Report {
    brickyard::apply::execute(
        &plan(steps),
        &c.transports(&NODES),
        o,
        &brickyard::apply::Silent,
        None,
    )
    .await
    .unwrap()
}
