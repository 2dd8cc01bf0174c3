//! The simulated fleet: every device's identity and inventory, generated deterministically
//! from the run seed and the device's index, in the shape of one of three agents (the OCS
//! Unix agent and FusionInventory as captured in `shared/fixtures/real-agent`, and the OCS
//! Windows agent as the reference's section catalogue describes it), and how devices change
//! from one round of inventories to the next.
//!
//! This module only builds documents: no I/O, no compression, no clock. The same seed always
//! gives byte-identical XML, and one device's values never depend on another's, so a fleet
//! can be regenerated in any order or in part (`--device-offset`).

use std::fmt;
use std::str::FromStr;

use ocs_proto::writer::{prolog_request, InventoryWriter};

use crate::catalogue::{self, Package};
use crate::rng::Rng;
use crate::LoadgenError;

/// Which agent a simulated device runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Shape {
    /// The OCS Unix agent 2.10 (Linux).
    Unix,
    /// FusionInventory 2.6 (Linux), which names several fields differently.
    Fusion,
    /// The OCS Windows agent 2.11.
    Windows,
}

impl Shape {
    /// Every shape, in `--os-mix` order.
    pub const ALL: [Shape; 3] = [Shape::Unix, Shape::Fusion, Shape::Windows];

    /// The name used in `--os-mix` and reports.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Unix => "unix",
            Shape::Fusion => "fusion",
            Shape::Windows => "windows",
        }
    }

    /// The User-Agent the real agent sends (captures, and the reference for Windows).
    pub fn user_agent(self) -> &'static str {
        match self {
            Shape::Unix => "OCS-NG_unified_unix_agent_v2.10.0",
            Shape::Fusion => "FusionInventory-Agent_v2.6-3",
            Shape::Windows => "OCS-NG_WINDOWS_AGENT_v2.11.0.1",
        }
    }

    /// The Content-Type the real agent sends with its zlib body.
    pub fn content_type(self) -> &'static str {
        match self {
            Shape::Fusion => "application/x-compress-zlib",
            Shape::Unix | Shape::Windows => "application/x-compress",
        }
    }

    /// CHECKSUM of a first inventory: every bit the agent knows (FusionInventory only
    /// computes bits 1 to 65536; the Unix agent's value is the one in the capture).
    fn first_checksum(self) -> u64 {
        match self {
            Shape::Unix => 1_572_863,
            Shape::Fusion => 131_071,
            Shape::Windows => 524_287,
        }
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Relative weights of the three shapes in the fleet (`unix=40,fusion=20,windows=40`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsMix {
    /// Weights in [`Shape::ALL`] order.
    pub weights: [u32; 3],
}

impl Default for OsMix {
    fn default() -> OsMix {
        OsMix {
            weights: [40, 20, 40],
        }
    }
}

impl FromStr for OsMix {
    type Err = LoadgenError;

    fn from_str(s: &str) -> Result<OsMix, LoadgenError> {
        let bad = |why: &str| LoadgenError::Usage(format!("--os-mix {s:?}: {why}"));
        let mut weights = [0u32; 3];
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| bad("expected NAME=WEIGHT"))?;
            let slot = Shape::ALL
                .iter()
                .position(|shape| shape.name() == name.trim())
                .ok_or_else(|| bad("names are unix, fusion and windows"))?;
            weights[slot] = weight
                .trim()
                .parse()
                .map_err(|_| bad("a weight is a whole number"))?;
        }
        if weights.iter().all(|w| *w == 0) {
            return Err(bad("at least one weight must be positive"));
        }
        Ok(OsMix { weights })
    }
}

impl OsMix {
    fn pick(&self, rng: &mut Rng) -> Shape {
        let total: u64 = self.weights.iter().map(|w| u64::from(*w)).sum();
        let mut draw = rng.below(total);
        for (shape, weight) in Shape::ALL.iter().zip(self.weights) {
            if draw < u64::from(weight) {
                return *shape;
            }
            draw -= u64::from(weight);
        }
        Shape::Unix
    }
}

/// What a device changed before one of its re-inventories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// This many packages were installed.
    SoftwareAdded(u32),
    /// This many packages were removed.
    SoftwareRemoved(u32),
    /// A disk (and a file system on it) was added.
    DiskAdded,
    /// The device moved to another subnet.
    IpChanged,
}

impl Change {
    /// The CHECKSUM bits an agent sets for it.
    fn checksum_bits(self) -> u64 {
        match self {
            Change::SoftwareAdded(_) | Change::SoftwareRemoved(_) => 65536,
            Change::DiskAdded => 256 | 512,
            Change::IpChanged => 4096,
        }
    }
}

/// Everything that decides the fleet's documents.
#[derive(Debug, Clone)]
pub struct FleetSpec {
    /// Seed of every random choice.
    pub seed: u64,
    /// Index of the first device, so that several runs can address disjoint devices.
    pub device_offset: u64,
    /// Fewest software entries per device.
    pub software_min: u32,
    /// Most software entries per device.
    pub software_max: u32,
    /// Shares of the agent shapes.
    pub os_mix: OsMix,
    /// Share of devices that changed something before round 2, 3, …; the last value holds
    /// for every later round.
    pub changed_share: Vec<f64>,
    /// Base images per catalogue (Linux, Windows): 0 draws every device's software on its
    /// own; N > 0 gives each device one of N images (see [`FleetSpec::image_of`]) plus, for
    /// half of them, a few packages of its own, so that many devices share their list.
    pub images: u32,
}

impl Default for FleetSpec {
    fn default() -> FleetSpec {
        FleetSpec {
            seed: 1,
            device_offset: 0,
            software_min: 50,
            software_max: 2000,
            os_mix: OsMix::default(),
            changed_share: vec![0.1],
            images: 0,
        }
    }
}

/// One device's documents for one round.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Its DEVICEID.
    pub deviceid: String,
    /// Its agent.
    pub shape: Shape,
    /// The PROLOG request document.
    pub prolog: String,
    /// The INVENTORY request document.
    pub inventory: String,
    /// How many SOFTWARES entries the inventory holds.
    pub software: usize,
    /// What changed since the previous round (`None` in round 1 and for unchanged devices).
    pub change: Option<Change>,
}

// Purposes of derived random streams, so that adding a value never shifts another.
const IDENTITY: u64 = 1;
const SOFTWARE: u64 = 2;
const CHANGE: u64 = 3;
const APPLY: u64 = 4;
const INSTALL: u64 = 5;
const IMAGE: u64 = 6;
const IMAGE_PICK: u64 = 7;
const DRIFT: u64 = 8;

/// Share of devices (in images mode) that run their image exactly as installed.
const PRISTINE: f64 = 0.5;

/// The mutable part of a device: what re-inventories report differently.
#[derive(Debug, Clone)]
struct State {
    /// Catalogue indices and version variants, sorted by index.
    software: Vec<(u32, u8)>,
    /// The device's image (images mode), whose packages carry the image's install dates.
    image: Option<u64>,
    /// Packages the device installed itself on top of its image, sorted (images mode only):
    /// they carry the device's own install dates.
    own: Vec<u32>,
    /// Extra disks added since round 1.
    extra_disks: u32,
    /// Subnet number and host part of the main address.
    subnet: u32,
    host: u32,
}

struct Model {
    vendor: &'static str,
    model: &'static str,
    chassis: &'static str,
    serial_prefix: &'static str,
    oui: [u8; 3],
}

const MODELS: &[Model] = &[
    Model {
        vendor: "Dell Inc.",
        model: "OptiPlex 7090",
        chassis: "Desktop",
        serial_prefix: "D",
        oui: [0xb0, 0x7b, 0x25],
    },
    Model {
        vendor: "Dell Inc.",
        model: "Latitude 5420",
        chassis: "Notebook",
        serial_prefix: "L",
        oui: [0x8c, 0x47, 0xbe],
    },
    Model {
        vendor: "LENOVO",
        model: "20XW0026FR",
        chassis: "Notebook",
        serial_prefix: "PF",
        oui: [0x54, 0xee, 0x75],
    },
    Model {
        vendor: "HP",
        model: "HP EliteBook 840 G8 Notebook PC",
        chassis: "Notebook",
        serial_prefix: "5CG",
        oui: [0x3c, 0x52, 0x82],
    },
    Model {
        vendor: "HPE",
        model: "ProLiant DL380 Gen10",
        chassis: "Rack Mount Chassis",
        serial_prefix: "CZJ",
        oui: [0x94, 0x40, 0xc9],
    },
    Model {
        vendor: "VMware, Inc.",
        model: "VMware Virtual Platform",
        chassis: "Other",
        serial_prefix: "VMware-",
        oui: [0x00, 0x50, 0x56],
    },
    Model {
        vendor: "QEMU",
        model: "Standard PC (Q35 + ICH9, 2009)",
        chassis: "Other",
        serial_prefix: "QM",
        oui: [0x52, 0x54, 0x00],
    },
];

/// Manufacturer, model string, MHz, cores, threads.
const CPUS: &[(&str, &str, u32, u32, u32)] = &[
    (
        "Intel",
        "Intel(R) Core(TM) i5-10500 CPU @ 3.10GHz",
        3100,
        6,
        12,
    ),
    (
        "Intel",
        "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz",
        3000,
        4,
        8,
    ),
    (
        "AMD",
        "AMD Ryzen 7 PRO 5850U with Radeon Graphics",
        1900,
        8,
        16,
    ),
    (
        "Intel",
        "Intel(R) Xeon(R) Gold 6230R CPU @ 2.10GHz",
        2100,
        26,
        52,
    ),
    ("AMD", "AMD EPYC 7543 32-Core Processor", 2800, 32, 64),
];

/// OSNAME, OSVERSION, OSCOMMENTS of the Linux shapes.
const LINUX_OS: &[(&str, &str, &str)] = &[
    (
        "Debian GNU/Linux 12",
        "6.1.0-18-amd64",
        "Debian GNU/Linux 12 (bookworm)",
    ),
    (
        "Debian GNU/Linux 11",
        "5.10.0-28-amd64",
        "Debian GNU/Linux 11 (bullseye)",
    ),
    (
        "Ubuntu 22.04.3 LTS",
        "5.15.0-91-generic",
        "Ubuntu 22.04.3 LTS",
    ),
    (
        "Ubuntu 24.04.1 LTS",
        "6.8.0-45-generic",
        "Ubuntu 24.04.1 LTS",
    ),
    (
        "Red Hat Enterprise Linux 9.3",
        "5.14.0-362.8.1.el9_3.x86_64",
        "Red Hat Enterprise Linux 9.3 (Plow)",
    ),
    (
        "Rocky Linux 9.2",
        "5.14.0-284.11.1.el9_2.x86_64",
        "Rocky Linux 9.2 (Blue Onyx)",
    ),
];

/// OSNAME, OSVERSION, OSCOMMENTS of the Windows shape.
const WINDOWS_OS: &[(&str, &str, &str)] = &[
    ("Microsoft Windows 10 Pro", "10.0.19045", "Windows 10 22H2"),
    ("Microsoft Windows 11 Pro", "10.0.22631", "Windows 11 23H2"),
    (
        "Microsoft Windows 11 Entreprise",
        "10.0.22621",
        "Windows 11 22H2",
    ),
    (
        "Microsoft Windows Server 2019 Standard",
        "10.0.17763",
        "1809",
    ),
    (
        "Microsoft Windows Server 2022 Datacenter",
        "10.0.20348",
        "21H2",
    ),
];

const SITES: &[&str] = &[
    "PARIS", "LYON", "LILLE", "NANTES", "BORDEAUX", "TOULOUSE", "NICE", "RENNES", "BERLIN",
    "MADRID", "MILANO", "LONDON",
];

const USERS: &[&str] = &[
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "oscar", "peggy", "trent", "victor", "walter",
];

/// How many /24 subnets devices spread over (10.0.0.0/8 holds them all).
const SUBNETS: u64 = 4000;

impl FleetSpec {
    /// The share of devices changed before `round` (2 or later).
    pub fn share(&self, round: u32) -> f64 {
        let at = usize::try_from(round.saturating_sub(2)).unwrap_or(usize::MAX);
        self.changed_share
            .get(at)
            .or(self.changed_share.last())
            .copied()
            .unwrap_or(0.0)
    }

    /// The global index of the `n`th device of this fleet.
    fn index(&self, n: u64) -> u64 {
        self.device_offset + n
    }

    /// Device `n`'s agent.
    pub fn shape(&self, n: u64) -> Shape {
        Identity::new(self, self.index(n)).shape
    }

    /// What device `n` changed just before `round` (never before round 2).
    pub fn change(&self, n: u64, round: u32) -> Option<Change> {
        if round < 2 {
            return None;
        }
        let mut rng = Rng::derive(self.seed, &[self.index(n), u64::from(round), CHANGE]);
        if rng.unit() >= self.share(round) {
            return None;
        }
        let count = u32::try_from(rng.range(1, 5)).unwrap_or(1);
        Some(match rng.below(4) {
            0 => Change::SoftwareAdded(count),
            1 => Change::SoftwareRemoved(count),
            2 => Change::DiskAdded,
            _ => Change::IpChanged,
        })
    }

    /// Device `n`'s documents for `round` (1 = first inventory).
    pub fn generate(&self, n: u64, round: u32) -> Generated {
        let (id, state) = self.state(n, round);
        let change = self.change(n, round);
        let checksum = match (round, change) {
            (0 | 1, _) => id.shape.first_checksum(),
            (_, Some(c)) => 1 | c.checksum_bits(),
            (_, None) => 1,
        };
        let inventory = match id.shape {
            Shape::Unix => unix(&id, &state, checksum),
            Shape::Fusion => fusion(&id, &state, checksum),
            Shape::Windows => windows(&id, &state, checksum),
        };
        let prolog = match id.shape {
            // FusionInventory's PROLOG has a spaced declaration and a TOKEN (capture).
            Shape::Fusion => format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<REQUEST>\n  <DEVICEID>{}</DEVICEID>\n  <QUERY>PROLOG</QUERY>\n  <TOKEN>12345678</TOKEN>\n</REQUEST>\n",
                id.deviceid
            ),
            Shape::Unix | Shape::Windows => prolog_request(&id.deviceid),
        };
        Generated {
            deviceid: id.deviceid,
            shape: id.shape,
            prolog,
            inventory,
            software: state.software.len(),
            change,
        }
    }

    /// Device `n`'s software names in `round`, in catalogue order (what the agent reports,
    /// without versions).
    pub fn software_names(&self, n: u64, round: u32) -> Vec<&'static str> {
        let (id, state) = self.state(n, round);
        let catalogue = id.catalogue();
        state
            .software
            .iter()
            .filter_map(|(pkg, _)| catalogue.get(*pkg as usize).map(|p| p.name.as_str()))
            .collect()
    }

    /// The image device `n` was installed from (`None` without images). Image `k` of N is
    /// taken with probability ln((k+2)/(k+1)) / ln(N+1), about 1/((k+1) ln N): a Zipf-like
    /// law where a few images cover most of the fleet and a long tail of images has a few
    /// devices each, as in real fleets (with 100 images, the first holds 15 % of the
    /// devices and the first ten half of them).
    pub fn image_of(&self, n: u64) -> Option<u64> {
        self.image_at(self.index(n))
    }

    fn image_at(&self, index: u64) -> Option<u64> {
        if self.images == 0 {
            return None;
        }
        let mut rng = Rng::derive(self.seed, &[index, IMAGE_PICK]);
        // (N+1)^u is uniform in log scale over [1, N+1): the continuous form of Zipf(1).
        let k = (f64::from(self.images) + 1.0).powf(rng.unit()).floor() as u64;
        Some(k.saturating_sub(1).min(u64::from(self.images) - 1))
    }

    /// Device `n`'s identity and its state in `round`.
    fn state(&self, n: u64, round: u32) -> (Identity, State) {
        let index = self.index(n);
        let id = Identity::new(self, index);
        let catalogue_len = id.catalogue().len();
        let mut state = self.initial_state(&id, catalogue_len);
        for r in 2..=round {
            if let Some(change) = self.change(n, r) {
                let mut rng = Rng::derive(self.seed, &[index, u64::from(r), APPLY]);
                apply(&mut state, change, &mut rng, catalogue_len);
            }
        }
        (id, state)
    }

    /// Fewest and most software entries, in order.
    fn bounds(&self) -> (u32, u32) {
        let lo = self.software_min.min(self.software_max);
        (lo, self.software_max.max(lo))
    }

    fn initial_state(&self, id: &Identity, catalogue_len: usize) -> State {
        if let Some(image) = self.image_at(id.index) {
            return self.imaged_state(id, image, catalogue_len);
        }
        let mut rng = Rng::derive(self.seed, &[id.index, SOFTWARE]);
        let lo = self.software_min.min(self.software_max);
        let hi = self.software_max.max(lo);
        let software = draw_software(&mut rng, lo, hi, catalogue_len);
        State {
            software,
            image: None,
            own: Vec::new(),
            extra_disks: 0,
            subnet: id.subnet,
            host: id.host,
        }
    }

    /// Images mode: the image's list, then (for half of the devices) up to 3 packages removed
    /// and 1 to 5 added, staying within the size bounds.
    fn imaged_state(&self, id: &Identity, image: u64, catalogue_len: usize) -> State {
        let family = match id.shape {
            Shape::Windows => 1,
            Shape::Unix | Shape::Fusion => 0,
        };
        let mut software = self.image_software(family, image, catalogue_len);
        let mut own = Vec::new();
        let mut rng = Rng::derive(self.seed, &[id.index, DRIFT]);
        if rng.unit() >= PRISTINE {
            let (lo, hi) = self.bounds();
            let (lo, hi) = (lo as usize, (hi as usize).min(catalogue_len));
            for _ in 0..rng.range(0, 3) {
                if software.len() > lo.max(1) {
                    let at = rng.index(software.len());
                    software.remove(at);
                }
            }
            let wanted = rng.range(1, 5);
            let mut added = 0;
            // Bounded: a device whose image holds nearly the whole catalogue adds fewer.
            for _ in 0..wanted * 20 {
                if added == wanted || software.len() >= hi {
                    break;
                }
                let pkg = u32::try_from(rng.index(catalogue_len)).unwrap_or(0);
                if let Err(at) = software.binary_search_by_key(&pkg, |(p, _)| *p) {
                    software.insert(at, (pkg, variant(&mut rng)));
                    if let Err(at) = own.binary_search(&pkg) {
                        own.insert(at, pkg);
                    }
                    added += 1;
                }
            }
        }
        State {
            software,
            image: Some(image),
            own,
            extra_disks: 0,
            subnet: id.subnet,
            host: id.host,
        }
    }

    /// Image `image` of a catalogue family (0 Linux, 1 Windows): a size drawn like a device's
    /// in the non-image mode, distinct packages and their versions, sorted by index.
    fn image_software(&self, family: u64, image: u64, catalogue_len: usize) -> Vec<(u32, u8)> {
        let mut rng = Rng::derive(self.seed, &[IMAGE, family, image]);
        let (lo, hi) = self.bounds();
        draw_software(&mut rng, lo, hi, catalogue_len)
    }
}

/// Between `lo` and `hi` distinct packages of the catalogue with their versions, sorted by
/// index (a partial Fisher-Yates shuffle).
fn draw_software(rng: &mut Rng, lo: u32, hi: u32, catalogue_len: usize) -> Vec<(u32, u8)> {
    let wanted = usize::try_from(rng.range(u64::from(lo), u64::from(hi)))
        .unwrap_or(0)
        .min(catalogue_len);
    let mut pool: Vec<u32> = (0..u32::try_from(catalogue_len).unwrap_or(u32::MAX)).collect();
    for i in 0..wanted {
        let j = i + rng.index(pool.len() - i);
        pool.swap(i, j);
    }
    let mut software: Vec<(u32, u8)> = pool[..wanted]
        .iter()
        .map(|pkg| (*pkg, variant(rng)))
        .collect();
    software.sort_unstable();
    software
}

/// Most devices run a package's catalogue version; some run an older or newer build, so the
/// version dictionary grows as it does in a real fleet.
fn variant(rng: &mut Rng) -> u8 {
    if rng.unit() < 0.2 {
        u8::try_from(rng.range(1, 3)).unwrap_or(1)
    } else {
        0
    }
}

fn apply(state: &mut State, change: Change, rng: &mut Rng, catalogue_len: usize) {
    match change {
        Change::SoftwareAdded(count) => {
            let mut added = 0;
            // Bounded: a device holding nearly the whole catalogue simply adds fewer.
            for _ in 0..count * 20 {
                if added == count {
                    break;
                }
                let pkg = u32::try_from(rng.index(catalogue_len)).unwrap_or(0);
                if let Err(at) = state.software.binary_search_by_key(&pkg, |(p, _)| *p) {
                    state.software.insert(at, (pkg, variant(rng)));
                    if state.image.is_some() {
                        if let Err(at) = state.own.binary_search(&pkg) {
                            state.own.insert(at, pkg);
                        }
                    }
                    added += 1;
                }
            }
        }
        Change::SoftwareRemoved(count) => {
            for _ in 0..count {
                if state.software.len() > 1 {
                    let at = rng.index(state.software.len());
                    state.software.remove(at);
                }
            }
        }
        Change::DiskAdded => state.extra_disks += 1,
        Change::IpChanged => {
            state.subnet =
                u32::try_from((u64::from(state.subnet) + 1 + rng.below(SUBNETS - 1)) % SUBNETS)
                    .unwrap_or(0);
            state.host = u32::try_from(rng.range(10, 250)).unwrap_or(10);
        }
    }
}

/// What never changes about a device.
struct Identity {
    index: u64,
    shape: Shape,
    hostname: String,
    deviceid: String,
    model: &'static Model,
    cpu: (&'static str, &'static str, u32, u32, u32),
    os: (&'static str, &'static str, &'static str),
    memory_mb: u64,
    mac: [u8; 6],
    serial: String,
    uuid: String,
    subnet: u32,
    host: u32,
    user: &'static str,
    tag: &'static str,
    disk_gb: u64,
    seed: u64,
}

impl Identity {
    fn new(spec: &FleetSpec, index: u64) -> Identity {
        let mut rng = Rng::derive(spec.seed, &[index, IDENTITY]);
        let shape = spec.os_mix.pick(&mut rng);
        let model = rng.pick(MODELS).unwrap_or(&MODELS[0]);
        let cpu = *rng.pick(CPUS).unwrap_or(&CPUS[0]);
        let os = *match shape {
            Shape::Windows => rng.pick(WINDOWS_OS).unwrap_or(&WINDOWS_OS[0]),
            Shape::Unix | Shape::Fusion => rng.pick(LINUX_OS).unwrap_or(&LINUX_OS[0]),
        };
        let prefix = match (shape, model.chassis) {
            (_, "Rack Mount Chassis") | (_, "Other") => "srv",
            (Shape::Windows, "Notebook") => "LT",
            (Shape::Windows, _) => "PC",
            (_, "Notebook") => "lap",
            _ => "ws",
        };
        let tag = *rng.pick(SITES).unwrap_or(&SITES[0]);
        // The index in the name makes every hostname (and so every DEVICEID) distinct.
        let hostname = format!("{prefix}-{}-{index:06}", &tag[..3].to_ascii_lowercase());
        let deviceid = format!(
            "{hostname}-{:04}-{:02}-{:02}-{:02}-{:02}-{:02}",
            rng.range(2019, 2026),
            rng.range(1, 12),
            rng.range(1, 28),
            rng.range(0, 23),
            rng.range(0, 59),
            rng.range(0, 59)
        );
        // An odd multiplier is a bijection modulo 2^24, so the NIC-specific half of the MAC is
        // distinct for the first 16 million devices of a seed.
        let nic = (index.wrapping_mul(0x9e_3779) ^ spec.seed.wrapping_mul(0x5bd1e995)) & 0xff_ffff;
        let mac = [
            model.oui[0],
            model.oui[1],
            model.oui[2],
            (nic >> 16) as u8,
            (nic >> 8) as u8,
            nic as u8,
        ];
        let serial = format!(
            "{}{}",
            model.serial_prefix,
            base36(index * 7919 + rng.below(7919), 8)
        );
        let (a, b) = (rng.next_u64(), rng.next_u64());
        let uuid = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        );
        Identity {
            index,
            shape,
            hostname,
            deviceid,
            model,
            cpu,
            os,
            memory_mb: [4096, 8192, 16384, 32768, 65536][rng.index(5)] - rng.below(400),
            mac,
            serial,
            uuid,
            subnet: u32::try_from(rng.below(SUBNETS)).unwrap_or(0),
            host: u32::try_from(rng.range(10, 250)).unwrap_or(10),
            user: rng.pick(USERS).unwrap_or(&USERS[0]),
            tag,
            disk_gb: [128, 256, 512, 1024][rng.index(4)],
            seed: spec.seed,
        }
    }

    fn catalogue(&self) -> &'static [Package] {
        match self.shape {
            Shape::Windows => catalogue::windows(),
            Shape::Unix | Shape::Fusion => catalogue::linux(),
        }
    }

    fn mac_text(&self) -> String {
        let m = self.mac;
        format!(
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }

    fn version(&self, pkg: &Package, variant: u8) -> String {
        match (variant, self.shape) {
            (0, _) => pkg.version.clone(),
            (v, Shape::Windows) => format!("{}.{v}", pkg.version),
            (v, _) => format!("{}+b{v}", pkg.version),
        }
    }

    /// `YYYY/MM/DD hh:mm:ss`, the INSTALLDATE format of every agent. A package that came
    /// with the device's image carries the image's date, so that imaged devices report
    /// identical rows.
    fn install_date(&self, state: &State, pkg: u32) -> String {
        let mut rng = match state.image {
            Some(image) if state.own.binary_search(&pkg).is_err() => {
                let family = u64::from(self.shape == Shape::Windows);
                Rng::derive(self.seed, &[IMAGE, family, image, u64::from(pkg), INSTALL])
            }
            _ => Rng::derive(self.seed, &[self.index, u64::from(pkg), INSTALL]),
        };
        format!(
            "{:04}/{:02}/{:02} {:02}:{:02}:{:02}",
            rng.range(2019, 2026),
            rng.range(1, 12),
            rng.range(1, 28),
            rng.range(0, 23),
            rng.range(0, 59),
            rng.range(0, 59)
        )
    }
}

/// The network of a state: address, mask, gateway, subnet.
struct Net {
    ip: String,
    gateway: String,
    subnet: String,
}

fn net(state: &State) -> Net {
    // 4,000 /24 subnets: 10.B.C.0 with B = subnet / 250.
    let (b, c) = (state.subnet / 250, state.subnet % 250);
    Net {
        ip: format!("10.{b}.{c}.{}", state.host),
        gateway: format!("10.{b}.{c}.1"),
        subnet: format!("10.{b}.{c}.0"),
    }
}

fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::with_capacity(width);
    while out.len() < width {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

fn unix(id: &Identity, state: &State, checksum: u64) -> String {
    let n = net(state);
    let mut w = InventoryWriter::new(&id.deviceid);
    let (cpu_maker, cpu_model, mhz, cores, threads) = id.cpu;
    w.row(
        "BIOS",
        [
            ("BMANUFACTURER", id.model.vendor),
            ("BVERSION", "1.19.0"),
            ("BDATE", "05/12/2023"),
            ("SMANUFACTURER", id.model.vendor),
            ("SMODEL", id.model.model),
            ("SSN", id.serial.as_str()),
            ("TYPE", id.model.chassis),
        ],
    );
    w.row(
        "CONTROLLERS",
        [
            ("MANUFACTURER", "Intel Corporation"),
            ("NAME", "Host bridge [0600]"),
            ("TYPE", "rev 01"),
        ],
    );
    w.row(
        "CONTROLLERS",
        [
            ("MANUFACTURER", "Intel Corporation Ethernet Connection"),
            ("NAME", "Ethernet controller [0200]"),
            ("TYPE", "rev 11"),
        ],
    );
    let (cores_s, threads_s, mhz_s) = (cores.to_string(), threads.to_string(), mhz.to_string());
    w.row(
        "CPUS",
        [
            ("CORES", cores_s.as_str()),
            ("CPUARCH", "x86_64"),
            ("DATA_WIDTH", "64"),
            ("LOGICAL_CPUS", threads_s.as_str()),
            ("MANUFACTURER", cpu_maker),
            ("SPEED", mhz_s.as_str()),
            ("TYPE", cpu_model),
        ],
    );
    linux_drives(&mut w, id, state);
    let (memory, checksum) = (id.memory_mb.to_string(), checksum.to_string());
    w.row(
        "HARDWARE",
        [
            ("CHECKSUM", checksum.as_str()),
            ("DEFAULTGATEWAY", n.gateway.as_str()),
            ("DESCRIPTION", "x86_64/00-00-00 00:05:19"),
            ("DNS", "10.255.255.53"),
            ("IPADDR", n.ip.as_str()),
            ("MEMORY", memory.as_str()),
            ("NAME", id.hostname.as_str()),
            ("OSCOMMENTS", id.os.2),
            ("OSNAME", id.os.0),
            ("OSVERSION", id.os.1),
            ("PROCESSORN", "1"),
            ("PROCESSORS", mhz_s.as_str()),
            ("PROCESSORT", cpu_model),
            ("SWAP", "2047"),
            ("USERID", id.user),
            ("UUID", id.uuid.as_str()),
            (
                "VMSYSTEM",
                if id.model.chassis == "Other" {
                    "VMware"
                } else {
                    "Physical"
                },
            ),
            ("WORKGROUP", "example.org"),
        ],
    );
    for (i, user) in ["root", "daemon", "bin", id.user].iter().enumerate() {
        let uid = if i == 3 {
            "1000".to_owned()
        } else {
            i.to_string()
        };
        let home = if i == 3 {
            format!("/home/{user}")
        } else {
            "/root".to_owned()
        };
        w.row(
            "LOCAL_USERS",
            [
                ("HOME", home.as_str()),
                ("ID_USER", uid.as_str()),
                ("LOGIN", user),
                ("NAME", user),
                ("SHELL", "/bin/bash"),
            ],
        );
    }
    w.row(
        "MEMORIES",
        [
            ("CAPACITY", memory.as_str()),
            ("CAPTION", "DIMM 0"),
            ("DESCRIPTION", "DIMM DDR4 Synchronous"),
            ("NUMSLOTS", "1"),
            ("SPEED", "3200"),
            ("TYPE", "DDR4"),
        ],
    );
    let mac = id.mac_text();
    w.row(
        "NETWORKS",
        [
            ("DESCRIPTION", "eth0"),
            ("IPADDRESS", n.ip.as_str()),
            ("IPDHCP", n.gateway.as_str()),
            ("IPGATEWAY", n.gateway.as_str()),
            ("IPMASK", "255.255.255.0"),
            ("IPSUBNET", n.subnet.as_str()),
            ("MACADDR", mac.as_str()),
            ("MTU", "1500"),
            ("SPEED", "1000"),
            ("STATUS", "Up"),
            ("TYPE", "ethernet"),
            ("VIRTUALDEV", "0"),
        ],
    );
    // The Unix agent reports each address of an interface as its own row.
    let v6 = format!("fe80::{:x}:{:x}", id.index >> 16, id.index & 0xffff);
    w.row(
        "NETWORKS",
        [
            ("DESCRIPTION", "eth0"),
            ("IPADDRESS", v6.as_str()),
            ("IPMASK", "ffff:ffff:ffff:ffff::"),
            ("IPSUBNET", "fe80::"),
            ("MACADDR", mac.as_str()),
            ("STATUS", "Up"),
            ("TYPE", "ethernet"),
            ("VIRTUALDEV", "0"),
        ],
    );
    let catalogue = id.catalogue();
    for (pkg, v) in &state.software {
        let Some(p) = catalogue.get(*pkg as usize) else {
            continue;
        };
        let (version, size, date) = (
            id.version(p, *v),
            p.size.to_string(),
            id.install_date(state, *pkg),
        );
        w.row(
            "SOFTWARES",
            [
                ("ARCHITECTURE", p.arch.as_str()),
                ("COMMENTS", p.comments.as_str()),
                ("FILESIZE", size.as_str()),
                ("FROM", "deb"),
                ("INSTALLDATE", date.as_str()),
                ("NAME", p.name.as_str()),
                ("PUBLISHER", p.publisher.as_str()),
                ("VERSION", version.as_str()),
            ],
        );
    }
    storages(&mut w, id, state, "sd");
    w.row(
        "VIDEOS",
        [
            ("CHIPSET", "Intel UHD Graphics"),
            ("MEMORY", "256"),
            ("NAME", "VGA compatible controller"),
            ("RESOLUTION", "1920x1080"),
        ],
    );
    w.accountinfo("TAG", id.tag);
    w.finish()
}

/// The file systems of a Linux device: root and EFI partitions, plus one per added disk.
fn linux_drives(w: &mut InventoryWriter, id: &Identity, state: &State) {
    let total = (id.disk_gb * 1000 - 24_000).to_string();
    let free = (id.disk_gb * 400).to_string();
    w.row(
        "DRIVES",
        [
            ("FILESYSTEM", "ext4"),
            ("FREE", free.as_str()),
            ("TOTAL", total.as_str()),
            ("TYPE", "/"),
            ("VOLUMN", "/dev/sda2"),
        ],
    );
    w.row(
        "DRIVES",
        [
            ("FILESYSTEM", "vfat"),
            ("FREE", "498"),
            ("TOTAL", "511"),
            ("TYPE", "/boot/efi"),
            ("VOLUMN", "/dev/sda1"),
        ],
    );
    for d in 1..=state.extra_disks {
        let (mount, dev) = (
            format!("/data{d}"),
            format!("/dev/sd{}1", (b'a' + (d % 25) as u8) as char),
        );
        w.row(
            "DRIVES",
            [
                ("FILESYSTEM", "xfs"),
                ("FREE", "1900000"),
                ("TOTAL", "1907000"),
                ("TYPE", mount.as_str()),
                ("VOLUMN", dev.as_str()),
            ],
        );
    }
}

fn storages(w: &mut InventoryWriter, id: &Identity, state: &State, prefix: &str) {
    let size = (id.disk_gb * 1000).to_string();
    let serial = format!("S4{}", id.serial.replace('-', ""));
    let name = format!("{prefix}a");
    w.row(
        "STORAGES",
        [
            ("DESCRIPTION", "SATA"),
            ("DISKSIZE", size.as_str()),
            ("FIRMWARE", "2B6Q"),
            ("MANUFACTURER", "Samsung"),
            ("MODEL", "SSD 870 EVO"),
            ("NAME", name.as_str()),
            ("SERIALNUMBER", serial.as_str()),
            ("TYPE", "disk"),
        ],
    );
    for d in 1..=state.extra_disks {
        let name = format!("{prefix}{}", (b'a' + (d % 25) as u8) as char);
        let serial = format!("ZL{}{d:02}", id.serial.replace('-', ""));
        w.row(
            "STORAGES",
            [
                ("DESCRIPTION", "SATA"),
                ("DISKSIZE", "2000398"),
                ("FIRMWARE", "SC60"),
                ("MANUFACTURER", "Seagate"),
                ("MODEL", "ST2000NM0055"),
                ("NAME", name.as_str()),
                ("SERIALNUMBER", serial.as_str()),
                ("TYPE", "disk"),
            ],
        );
    }
}

fn fusion(id: &Identity, state: &State, checksum: u64) -> String {
    let n = net(state);
    let mut w = InventoryWriter::new(&id.deviceid);
    w.row("ACCESSLOG", [("LOGDATE", "2026-11-21 12:47:05")]);
    let (cpu_maker, cpu_model, mhz, cores, threads) = id.cpu;
    let (memory, checksum) = (id.memory_mb.to_string(), checksum.to_string());
    w.row(
        "HARDWARE",
        [
            ("CHECKSUM", checksum.as_str()),
            ("DEFAULTGATEWAY", n.gateway.as_str()),
            ("DNS", "10.255.255.53"),
            ("IPADDR", n.ip.as_str()),
            ("LASTLOGGEDUSER", id.user),
            ("MEMORY", memory.as_str()),
            ("NAME", id.hostname.as_str()),
            ("OSCOMMENTS", "#1 SMP PREEMPT_DYNAMIC"),
            ("OSNAME", id.os.2),
            ("OSVERSION", id.os.1),
            ("PROCESSORN", "1"),
            ("PROCESSORT", cpu_model),
            ("UUID", id.uuid.as_str()),
            (
                "VMSYSTEM",
                if id.model.chassis == "Other" {
                    "VMware"
                } else {
                    "Physical"
                },
            ),
        ],
    );
    // FusionInventory's own CPU field names: most CPU columns stay empty on the server.
    let (cores_s, threads_s, mhz_s) = (cores.to_string(), threads.to_string(), mhz.to_string());
    w.row(
        "CPUS",
        [
            ("ARCH", "x86_64"),
            ("CORE", cores_s.as_str()),
            ("MANUFACTURER", cpu_maker),
            ("NAME", cpu_model),
            ("SPEED", mhz_s.as_str()),
            ("THREAD", threads_s.as_str()),
        ],
    );
    let mac = id.mac_text();
    w.row(
        "NETWORKS",
        [
            ("DESCRIPTION", "lo"),
            ("IPADDRESS", "127.0.0.1"),
            ("IPMASK", "255.0.0.0"),
            ("IPSUBNET", "127.0.0.0"),
            ("MACADDR", "00:00:00:00:00:00"),
            ("STATUS", "Up"),
            ("TYPE", "loopback"),
            ("VIRTUALDEV", "1"),
        ],
    );
    w.row(
        "NETWORKS",
        [
            ("DESCRIPTION", "eth0"),
            ("IPADDRESS", n.ip.as_str()),
            ("IPGATEWAY", n.gateway.as_str()),
            ("IPMASK", "255.255.255.0"),
            ("IPSUBNET", n.subnet.as_str()),
            ("MACADDR", mac.as_str()),
            ("SPEED", "1000"),
            ("STATUS", "Up"),
            ("TYPE", "ethernet"),
            ("VIRTUALDEV", "0"),
        ],
    );
    storages(&mut w, id, state, "sd");
    linux_drives(&mut w, id, state);
    w.row(
        "OPERATINGSYSTEM",
        [
            ("ARCH", "x86_64"),
            ("FQDN", id.hostname.as_str()),
            ("FULL_NAME", id.os.2),
            ("KERNEL_NAME", "linux"),
            ("KERNEL_VERSION", id.os.1),
            ("NAME", id.os.0),
        ],
    );
    w.row(
        "BIOS",
        [
            ("BMANUFACTURER", id.model.vendor),
            ("SMANUFACTURER", id.model.vendor),
            ("SMODEL", id.model.model),
            ("SSN", id.serial.as_str()),
        ],
    );
    for (key, val) in [
        ("LANG", "C.UTF-8"),
        ("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        ("SHELL", "/bin/sh"),
        ("HOME", "/root"),
    ] {
        w.row("ENVS", [("KEY", key), ("VAL", val)]);
    }
    let catalogue = id.catalogue();
    for (pkg, v) in &state.software {
        let Some(p) = catalogue.get(*pkg as usize) else {
            continue;
        };
        let (version, size) = (id.version(p, *v), p.size.to_string());
        w.row(
            "SOFTWARES",
            [
                ("ARCH", p.arch.as_str()),
                ("FILESIZE", size.as_str()),
                ("FROM", "deb"),
                ("NAME", p.name.as_str()),
                ("PUBLISHER", "Debian"),
                ("VERSION", version.as_str()),
            ],
        );
    }
    w.accountinfo("TAG", id.tag);
    w.finish()
}

fn windows(id: &Identity, state: &State, checksum: u64) -> String {
    let n = net(state);
    let mut w = InventoryWriter::new(&id.deviceid);
    let (cpu_maker, cpu_model, mhz, cores, threads) = id.cpu;
    let (memory, checksum, mhz_s) = (
        id.memory_mb.to_string(),
        checksum.to_string(),
        mhz.to_string(),
    );
    let prodid = format!(
        "00330-80000-{:05}-AA{:03}",
        id.index % 100_000,
        id.index % 1000
    );
    w.row(
        "HARDWARE",
        [
            ("NAME", id.hostname.as_str()),
            ("WORKGROUP", "CORP"),
            ("USERDOMAIN", "CORP"),
            ("OSNAME", id.os.0),
            ("OSVERSION", id.os.1),
            ("OSCOMMENTS", id.os.2),
            ("ARCH", "64-bit"),
            ("PROCESSORT", cpu_model),
            ("PROCESSORS", mhz_s.as_str()),
            ("PROCESSORN", "1"),
            ("MEMORY", memory.as_str()),
            ("SWAP", "4864"),
            ("IPADDR", n.ip.as_str()),
            ("DNS", "10.255.255.53"),
            ("DEFAULTGATEWAY", n.gateway.as_str()),
            ("LASTDATE", "1970-01-01"),
            ("USERID", id.user),
            ("LASTLOGGEDUSER", id.user),
            ("TYPE", "1"),
            ("DESCRIPTION", "N/A"),
            ("WINCOMPANY", "Example Corp"),
            ("WINOWNER", "IT"),
            ("WINPRODID", prodid.as_str()),
            ("UUID", id.uuid.as_str()),
            (
                "VMSYSTEM",
                if id.model.chassis == "Other" {
                    "VMware"
                } else {
                    "Physical"
                },
            ),
            ("CHECKSUM", checksum.as_str()),
        ],
    );
    w.row(
        "BIOS",
        [
            ("SMANUFACTURER", id.model.vendor),
            ("SMODEL", id.model.model),
            ("SSN", id.serial.as_str()),
            ("TYPE", id.model.chassis),
            ("BMANUFACTURER", id.model.vendor),
            ("BVERSION", "1.19.0"),
            ("BDATE", "05/12/2023"),
            ("ASSETTAG", ""),
        ],
    );
    let (cores_s, threads_s) = (cores.to_string(), threads.to_string());
    w.row(
        "CPUS",
        [
            ("MANUFACTURER", cpu_maker),
            ("TYPE", cpu_model),
            ("SPEED", mhz_s.as_str()),
            ("CORES", cores_s.as_str()),
            ("LOGICAL_CPUS", threads_s.as_str()),
            ("CPUARCH", "x64"),
            ("DATA_WIDTH", "64"),
            ("CURRENT_ADDRESS_WIDTH", "64"),
            ("SOCKET", "U3E1"),
        ],
    );
    w.row(
        "MEMORIES",
        [
            ("CAPTION", "Physical Memory"),
            ("DESCRIPTION", "DIMM DDR4"),
            ("CAPACITY", memory.as_str()),
            ("PURPOSE", "System Memory"),
            ("TYPE", "DDR4"),
            ("SPEED", "3200"),
            ("NUMSLOTS", "1"),
        ],
    );
    let total = (id.disk_gb * 1000 - 24_000).to_string();
    let free = (id.disk_gb * 400).to_string();
    w.row(
        "DRIVES",
        [
            ("LETTER", "C:/"),
            ("TYPE", "Hard Drive"),
            ("FILESYSTEM", "NTFS"),
            ("TOTAL", total.as_str()),
            ("FREE", free.as_str()),
            ("NUMFILES", "0"),
            ("VOLUMN", "Windows"),
        ],
    );
    for d in 1..=state.extra_disks {
        let letter = format!("{}:/", (b'D' + (d % 22) as u8) as char);
        w.row(
            "DRIVES",
            [
                ("LETTER", letter.as_str()),
                ("TYPE", "Hard Drive"),
                ("FILESYSTEM", "NTFS"),
                ("TOTAL", "1907000"),
                ("FREE", "1900000"),
                ("NUMFILES", "0"),
                ("VOLUMN", "Data"),
            ],
        );
    }
    storages(&mut w, id, state, "PhysicalDrive");
    let mac = id.mac_text();
    w.row(
        "NETWORKS",
        [
            ("DESCRIPTION", "Intel(R) Ethernet Connection (11) I219-LM"),
            ("TYPE", "Ethernet"),
            ("TYPEMIB", "ethernetCsmacd"),
            ("SPEED", "1 Gb/s"),
            ("MACADDR", mac.as_str()),
            ("STATUS", "Up"),
            ("IPADDRESS", n.ip.as_str()),
            ("IPMASK", "255.255.255.0"),
            ("IPGATEWAY", n.gateway.as_str()),
            ("IPSUBNET", n.subnet.as_str()),
            ("IPDHCP", n.gateway.as_str()),
            ("VIRTUALDEV", "0"),
        ],
    );
    w.row(
        "PRINTERS",
        [
            ("NAME", "Microsoft Print to PDF"),
            ("DRIVER", "Microsoft Print To PDF"),
            ("PORT", "PORTPROMPT:"),
            ("SHARED", "0"),
            ("NETWORK", "0"),
        ],
    );
    w.row(
        "VIDEOS",
        [
            ("NAME", "Intel(R) UHD Graphics 630"),
            ("CHIPSET", "Intel(R) UHD Graphics Family"),
            ("MEMORY", "1024"),
            ("RESOLUTION", "1920 x 1080"),
        ],
    );
    w.row(
        "MONITORS",
        [
            ("MANUFACTURER", "Dell Inc."),
            ("CAPTION", "DELL P2419H"),
            ("DESCRIPTION", "Generic PnP Monitor"),
            ("TYPE", "Digital"),
        ],
    );
    w.row(
        "REGISTRY",
        [("NAME", "OfficeVersion"), ("REGVALUE", "16.0")],
    );
    let catalogue = id.catalogue();
    for (pkg, v) in &state.software {
        let Some(p) = catalogue.get(*pkg as usize) else {
            continue;
        };
        let (version, size, date) = (
            id.version(p, *v),
            p.size.to_string(),
            id.install_date(state, *pkg),
        );
        let folder = format!(
            "C:\\Program Files\\{}",
            p.name.split(' ').next().unwrap_or_default()
        );
        let guid = format!(
            "{{{:08X}-0000-0000-0000-{:012X}}}",
            pkg,
            u64::from(*pkg) * 31 + 7
        );
        w.row(
            "SOFTWARES",
            [
                ("PUBLISHER", p.publisher.as_str()),
                ("NAME", p.name.as_str()),
                ("VERSION", version.as_str()),
                ("FOLDER", folder.as_str()),
                ("COMMENTS", p.comments.as_str()),
                ("FILENAME", ""),
                ("FILESIZE", size.as_str()),
                ("GUID", guid.as_str()),
                ("LANGUAGE", "English (United States)"),
                ("INSTALLDATE", date.as_str()),
                ("BITSWIDTH", if p.arch == "x86" { "32" } else { "64" }),
                ("SOURCE", "1"),
            ],
        );
    }
    w.accountinfo("TAG", id.tag);
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocs_proto::request::{parse_request, Query};
    use ocs_proto::Inventory;

    fn spec(seed: u64) -> FleetSpec {
        FleetSpec {
            seed,
            software_min: 50,
            software_max: 300,
            ..FleetSpec::default()
        }
    }

    /// The first device of each shape in a fleet.
    fn one_of_each(spec: &FleetSpec) -> Vec<u64> {
        Shape::ALL
            .iter()
            .map(|shape| (0..200).find(|n| spec.shape(*n) == *shape).unwrap())
            .collect()
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, b) = (spec(7), spec(8));
        for n in 0..20 {
            for round in 1..=3 {
                let (x, y) = (a.generate(n, round), a.generate(n, round));
                assert_eq!(x.inventory, y.inventory);
                assert_eq!(x.prolog, y.prolog);
            }
            assert_ne!(a.generate(n, 1).inventory, b.generate(n, 1).inventory);
            assert_ne!(a.generate(n, 1).deviceid, b.generate(n, 1).deviceid);
        }
    }

    #[test]
    fn every_shape_parses_as_the_server_reads_it() {
        let s = spec(3);
        for n in one_of_each(&s) {
            for round in 1..=2 {
                let g = s.generate(n, round);
                let prolog = parse_request(g.prolog.as_bytes()).unwrap();
                assert_eq!(prolog.query, Query::Prolog);
                assert_eq!(prolog.deviceid.as_deref(), Some(g.deviceid.as_str()));
                let req = parse_request(g.inventory.as_bytes()).unwrap();
                assert_eq!(req.query, Query::Inventory);
                let inv = Inventory::from_request(&req).unwrap();
                assert_eq!(
                    inv.softwares.as_ref().map(Vec::len),
                    Some(g.software),
                    "{}",
                    g.shape
                );
                assert!(inv
                    .hardware_text("NAME")
                    .is_some_and(|h| g.deviceid.starts_with(h)));
                assert!(inv.section("NETWORKS").is_some());
                assert!(inv.section("STORAGES").is_some());
                let expected = if round == 1 {
                    g.shape.first_checksum()
                } else {
                    1
                };
                assert_eq!(inv.checksum, Some(expected));
                assert!(ocs_proto::deviceid::is_valid(&g.deviceid), "{}", g.deviceid);
            }
        }
    }

    /// The server's streaming reader maps every generated document (every shape, first and
    /// later rounds, up to 2,000 software entries) to what the element tree gives.
    #[test]
    fn streaming_and_tree_readers_agree_on_generated_documents() {
        use ocs_proto::read::read_document;
        use ocs_proto::request::parse_request_with;
        use ocs_proto::xml::XmlLimits;
        use ocs_proto::Request;
        let s = FleetSpec {
            software_min: 1000,
            software_max: 2000,
            changed_share: vec![0.0, 0.5],
            ..spec(5)
        };
        let limits = XmlLimits::default();
        let mut inventories = 0;
        for n in one_of_each(&s).into_iter().chain(0..6) {
            for round in 1..=3 {
                let g = s.generate(n, round);
                for doc in [&g.prolog, &g.inventory] {
                    let tree = parse_request_with(doc.as_bytes(), &limits)
                        .and_then(|r| Request::from_tree(&r, 20_000));
                    let streamed = read_document(doc.as_bytes(), &limits, 20_000);
                    assert_eq!(streamed, tree, "{} round {round}", g.deviceid);
                    if let Ok(Request::Inventory {
                        inventory: Ok(inv), ..
                    }) = &streamed
                    {
                        assert_eq!(inv.softwares.as_ref().map(Vec::len), Some(g.software));
                        inventories += 1;
                    }
                }
            }
        }
        assert_eq!(inventories, 27);
    }

    #[test]
    fn identities_are_distinct_and_software_counts_in_range() {
        let s = FleetSpec {
            software_min: 50,
            software_max: 2000,
            ..spec(1)
        };
        let mut seen = std::collections::HashSet::new();
        let mut shapes = std::collections::HashSet::new();
        for n in 0..300 {
            let id = Identity::new(&s, s.index(n));
            shapes.insert(id.shape);
            for key in [
                id.hostname.clone(),
                id.deviceid.clone(),
                id.mac_text(),
                id.serial.clone(),
                id.uuid.clone(),
            ] {
                assert!(seen.insert(key.clone()), "duplicate {key}");
            }
            let st = s.initial_state(&id, id.catalogue().len());
            assert!((50..=2000).contains(&st.software.len()));
        }
        assert_eq!(shapes.len(), 3, "the default mix has every shape");
        let subnets: std::collections::HashSet<u32> = (0..300)
            .map(|n| Identity::new(&s, s.index(n)).subnet)
            .collect();
        assert!(subnets.len() > 250, "devices spread over many subnets");
    }

    #[test]
    fn changes_follow_the_share_and_show_in_the_documents() {
        let s = FleetSpec {
            changed_share: vec![0.0, 0.5],
            ..spec(11)
        };
        assert!(
            (0..500).all(|n| s.change(n, 2).is_none()),
            "round 2 unchanged"
        );
        let changed: Vec<u64> = (0..500).filter(|n| s.change(*n, 3).is_some()).collect();
        assert!((200..300).contains(&changed.len()), "{}", changed.len());
        for n in changed.iter().take(40) {
            let (before, after) = (s.generate(*n, 2), s.generate(*n, 3));
            assert_ne!(before.inventory, after.inventory);
            let change = after.change.unwrap();
            match change {
                Change::SoftwareAdded(k) => assert!(
                    after.software > before.software
                        && after.software <= before.software + k as usize
                ),
                Change::SoftwareRemoved(k) => {
                    assert_eq!(after.software + k as usize, before.software)
                }
                Change::DiskAdded => assert!(
                    after.inventory.matches("<STORAGES>").count()
                        > before.inventory.matches("<STORAGES>").count()
                ),
                Change::IpChanged => assert_eq!(after.software, before.software),
            }
            assert!(after.inventory.contains(&format!(
                "<CHECKSUM>{}</CHECKSUM>",
                1 | change.checksum_bits()
            )));
        }
        let unchanged = (0..500).find(|n| s.change(*n, 3).is_none()).unwrap();
        let (a, b) = (s.generate(unchanged, 2), s.generate(unchanged, 3));
        assert_eq!(
            a.inventory, b.inventory,
            "an unchanged device sends the same document"
        );
    }

    /// FNV-1a, enough to pin bytes.
    fn fnv(bytes: &[u8], mut h: u64) -> u64 {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        h
    }

    #[test]
    fn the_default_fleet_keeps_its_bytes() {
        // Pinned before images existed: without --images, every document stays byte-identical
        // across versions, so bench/standard.sh figures stay comparable.
        let spec = FleetSpec {
            changed_share: vec![0.0, 0.5],
            ..FleetSpec::default()
        };
        let mut h = 0xcbf2_9ce4_8422_2325;
        for n in 0..30 {
            assert_eq!(spec.image_of(n), None);
            for round in 1..=3 {
                let g = spec.generate(n, round);
                h = fnv(g.prolog.as_bytes(), h);
                h = fnv(g.inventory.as_bytes(), h);
            }
        }
        assert_eq!(h, 0xeaab_bfde_5d8a_f492);
    }

    fn imaged(images: u32) -> FleetSpec {
        FleetSpec {
            seed: 4,
            software_min: 5,
            software_max: 2000,
            images,
            ..FleetSpec::default()
        }
    }

    #[test]
    fn images_are_deterministic_and_sizes_stay_in_range() {
        let (a, b) = (imaged(20), imaged(20));
        for n in 0..40 {
            let (x, y) = (a.generate(n, 1), b.generate(n, 1));
            assert_eq!(x.inventory, y.inventory);
            assert_eq!(a.generate(n, 2).inventory, b.generate(n, 2).inventory);
        }
        let other_seed = FleetSpec {
            seed: 5,
            ..imaged(20)
        };
        assert_ne!(
            a.generate(0, 1).inventory,
            other_seed.generate(0, 1).inventory
        );
        let mut sizes = Vec::new();
        for n in 0..3000 {
            let (id, st) = a.state(n, 1);
            assert!(
                (5..=2000).contains(&st.software.len()),
                "{}",
                st.software.len()
            );
            assert!(
                st.software.windows(2).all(|w| w[0].0 < w[1].0),
                "sorted, distinct"
            );
            assert!(st.software.len() <= id.catalogue().len());
            sizes.push(st.software.len());
        }
        // Images of many sizes: both ends of the range are represented.
        assert!(sizes.iter().any(|s| *s < 500) && sizes.iter().any(|s| *s > 1500));
        // Small bounds hold too.
        let small = FleetSpec {
            software_min: 5,
            software_max: 8,
            ..imaged(3)
        };
        assert!((0..300).all(|n| (5..=8).contains(&small.state(n, 1).1.software.len())));
    }

    #[test]
    fn imaged_devices_share_identical_lists() {
        let s = imaged(20);
        let mut lists: std::collections::HashMap<(u64, Vec<(u32, u8)>), u32> = Default::default();
        let devices = 2000;
        for n in 0..devices {
            let (id, st) = s.state(n, 1);
            let family = u64::from(id.shape == Shape::Windows);
            let image = s.image_software(family, st.image.unwrap(), id.catalogue().len());
            // Near-identical: a device differs from its image by at most 3 + 5 packages.
            let missing = image.iter().filter(|p| !st.software.contains(p)).count();
            let extra = st.software.iter().filter(|p| !image.contains(p)).count();
            assert!(missing <= 3 && extra <= 5, "{missing} {extra}");
            assert!(extra <= st.own.len() && st.own.len() <= 5);
            *lists.entry((family, st.software)).or_default() += 1;
        }
        let shared: u32 = lists.values().filter(|c| **c > 1).sum();
        let share = f64::from(shared) / devices as f64;
        assert!((0.4..0.6).contains(&share), "{share}");

        // Two pristine devices of one image and shape send the very same SOFTWARES rows.
        let rows = |n: u64| {
            let g = s.generate(n, 1);
            let (a, b) = (
                g.inventory.find("<SOFTWARES>").unwrap(),
                g.inventory.rfind("</SOFTWARES>").unwrap(),
            );
            g.inventory[a..b].to_owned()
        };
        for shape in Shape::ALL {
            let pristine: Vec<u64> = (0..devices)
                .filter(|n| s.shape(*n) == shape && s.image_of(*n) == Some(0))
                .filter(|n| s.state(*n, 1).1.own.is_empty())
                .take(2)
                .collect();
            let [x, y] = pristine[..] else {
                panic!("two pristine {shape} devices of image 0")
            };
            assert_eq!(s.state(x, 1).1.software, s.state(y, 1).1.software);
            assert_eq!(rows(x), rows(y), "{shape}");
        }
    }

    #[test]
    fn images_follow_a_zipf_like_law() {
        let s = imaged(100);
        let mut counts = vec![0u32; 100];
        let devices = 20_000;
        for n in 0..devices {
            counts[s.image_of(n).unwrap() as usize] += 1;
        }
        let share = |k: usize| f64::from(counts[k]) / f64::from(devices as u32);
        // ln 2 / ln 101 = 15 %, the first ten ln 11 / ln 101 = 52 %.
        assert!((0.13..0.17).contains(&share(0)), "{}", share(0));
        let first_ten: f64 = (0..10).map(share).sum();
        assert!((0.48..0.56).contains(&first_ten), "{first_ten}");
        assert!(counts[0] > counts[9] && counts[9] > counts[99]);
        assert!(counts[99] > 0, "the tail is used");
        // One image: the whole fleet shares it.
        assert!((0..100).all(|n| imaged(1).image_of(n) == Some(0)));
    }

    #[test]
    fn imaged_devices_change_and_keep_unchanged_documents() {
        let s = FleetSpec {
            changed_share: vec![0.0, 0.5],
            ..imaged(10)
        };
        let changed = (0..200).find(|n| {
            matches!(s.change(*n, 3), Some(Change::SoftwareAdded(_)))
                && s.shape(*n) == Shape::Windows
        });
        let n = changed.unwrap();
        let (before, after) = (s.generate(n, 2), s.generate(n, 3));
        assert!(after.software > before.software);
        assert!(s.state(n, 3).1.own.len() > s.state(n, 2).1.own.len());
        let unchanged = (0..200).find(|n| s.change(*n, 3).is_none()).unwrap();
        assert_eq!(
            s.generate(unchanged, 2).inventory,
            s.generate(unchanged, 3).inventory
        );
        assert_eq!(
            s.generate(unchanged, 1).software,
            s.generate(unchanged, 2).software
        );
        assert_eq!(
            s.software_names(unchanged, 1).len(),
            s.generate(unchanged, 1).software
        );
    }

    #[test]
    fn os_mix_parsing() {
        assert_eq!(
            "unix=1,windows=3".parse::<OsMix>().unwrap().weights,
            [1, 0, 3]
        );
        assert!("unix=0".parse::<OsMix>().is_err());
        assert!("mac=3".parse::<OsMix>().is_err());
        let only_fusion: OsMix = "fusion=1".parse().unwrap();
        let s = FleetSpec {
            os_mix: only_fusion,
            ..spec(1)
        };
        assert!((0..50).all(|n| s.shape(n) == Shape::Fusion));
    }
}
