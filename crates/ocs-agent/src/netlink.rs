//! Interface addresses over rtnetlink (an `RTM_GETADDR` dump), the one kernel interface that
//! lists every IPv4 and IPv6 address with its prefix length and label without root and
//! without `ip` or `ifconfig` installed. `/proc` has IPv6 addresses only.
//!
//! The dump is parsed by a pure function, tested on a dump captured from a real machine
//! (`testdata/*/cmd/netlink-getaddr.bin`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::collectors::Context;
use crate::error::Error;

/// One address of one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfAddr {
    /// Interface index.
    pub index: u32,
    /// The IPv4 label (`eth0`, `eth0:1` for an alias); `None` for IPv6, whose addresses
    /// carry no label.
    pub label: Option<String>,
    /// The address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// Scope (0 global, 253 link, 254 host).
    pub scope: u8,
}

const RTM_GETADDR: u16 = 22;
const RTM_NEWADDR: u16 = 20;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;
const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

/// Reads the addresses of the machine (live: netlink; captured: the saved dump).
pub fn addresses(ctx: &Context) -> Result<Vec<IfAddr>, Error> {
    let dump = if ctx.is_live() {
        dump_live()?
    } else {
        ctx.read_bytes("/cmd/netlink-getaddr.bin")?
    };
    parse_dump(&dump)
}

fn dump_live() -> Result<Vec<u8>, Error> {
    use rustix::net::{
        netlink::SocketAddrNetlink, recv, sendto, socket, AddressFamily, RecvFlags, SendFlags,
        SocketType,
    };
    let io = |e: rustix::io::Errno| Error::Command {
        program: "netlink RTM_GETADDR".into(),
        detail: e.to_string(),
    };
    let fd = socket(AddressFamily::NETLINK, SocketType::RAW, None).map_err(io)?;
    let mut request = Vec::with_capacity(24);
    request.extend_from_slice(&24u32.to_ne_bytes());
    request.extend_from_slice(&RTM_GETADDR.to_ne_bytes());
    request.extend_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    request.extend_from_slice(&1u32.to_ne_bytes());
    request.extend_from_slice(&0u32.to_ne_bytes());
    // ifaddrmsg: any family, everything else zero.
    request.extend_from_slice(&[0u8; 8]);
    sendto(
        &fd,
        &request,
        SendFlags::empty(),
        &SocketAddrNetlink::new(0, 0),
    )
    .map_err(io)?;
    let mut dump = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    // A dump ends with NLMSG_DONE; the bound only guards against a kernel that never says so.
    for _ in 0..10_000 {
        let (n, _) = recv(&fd, &mut buf[..], RecvFlags::empty()).map_err(io)?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        dump.extend_from_slice(chunk);
        if messages(chunk).any(|(kind, _)| kind == NLMSG_DONE || kind == NLMSG_ERROR) {
            break;
        }
    }
    Ok(dump)
}

/// Splits a buffer into netlink messages: (type, payload).
fn messages(buf: &[u8]) -> impl Iterator<Item = (u16, &[u8])> + '_ {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let header = buf.get(at..at + 16)?;
        let len = usize::try_from(u32::from_ne_bytes([
            header[0], header[1], header[2], header[3],
        ]))
        .ok()?;
        let kind = u16::from_ne_bytes([header[4], header[5]]);
        if len < 16 || at + len > buf.len() {
            return None;
        }
        let payload = &buf[at + 16..at + len];
        at += (len + 3) & !3;
        Some((kind, payload))
    })
}

/// Parses an `RTM_GETADDR` dump.
pub fn parse_dump(buf: &[u8]) -> Result<Vec<IfAddr>, Error> {
    let mut out = Vec::new();
    for (kind, payload) in messages(buf) {
        match kind {
            NLMSG_DONE => break,
            NLMSG_ERROR => {
                let code = payload
                    .get(..4)
                    .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                if code != 0 {
                    return Err(Error::parse(
                        "netlink address dump",
                        format!("error {code}"),
                    ));
                }
            }
            RTM_NEWADDR => {
                if let Some(a) = parse_ifaddr(payload) {
                    out.push(a);
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

fn parse_ifaddr(p: &[u8]) -> Option<IfAddr> {
    let family = *p.first()?;
    let prefix = *p.get(1)?;
    let scope = *p.get(3)?;
    let index = u32::from_ne_bytes(p.get(4..8)?.try_into().ok()?);
    let mut address = None;
    let mut local = None;
    let mut label = None;
    let mut at = 8usize;
    while at + 4 <= p.len() {
        let len = usize::from(u16::from_ne_bytes([p[at], p[at + 1]]));
        let kind = u16::from_ne_bytes([p[at + 2], p[at + 3]]);
        if len < 4 || at + len > p.len() {
            break;
        }
        let data = &p[at + 4..at + len];
        let ip = match (family, data.len()) {
            (AF_INET, 4) => Some(IpAddr::V4(Ipv4Addr::new(
                data[0], data[1], data[2], data[3],
            ))),
            (AF_INET6, 16) => {
                let octets: [u8; 16] = data.try_into().ok()?;
                Some(IpAddr::V6(Ipv6Addr::from(octets)))
            }
            _ => None,
        };
        match kind {
            IFA_ADDRESS => address = ip,
            IFA_LOCAL => local = ip,
            IFA_LABEL => {
                label = Some(
                    String::from_utf8_lossy(data)
                        .trim_end_matches('\0')
                        .to_owned(),
                )
            }
            _ => {}
        }
        at += (len + 3) & !3;
    }
    // On point-to-point links IFA_ADDRESS is the peer; IFA_LOCAL is ours.
    Some(IfAddr {
        index,
        label,
        addr: local.or(address)?,
        prefix,
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_dump_of_the_vm() {
        let ctx = crate::collectors::testing::machine("vm-debian12", true);
        let addrs = addresses(&ctx).unwrap();
        let v4: Vec<_> = addrs.iter().filter(|a| a.addr.is_ipv4()).collect();
        assert_eq!(v4.len(), 2);
        let eth0 = v4
            .iter()
            .find(|a| a.label.as_deref() == Some("eth0"))
            .unwrap();
        assert_eq!(eth0.addr, "192.0.2.2".parse::<IpAddr>().unwrap());
        assert_eq!(eth0.prefix, 24);
        let v6: Vec<_> = addrs.iter().filter(|a| a.addr.is_ipv6()).collect();
        assert_eq!(v6.len(), 3);
        assert!(v6.iter().any(
            |a| a.addr == "fe80::fc:ff:fe00:1".parse::<IpAddr>().unwrap()
                && a.prefix == 64
                && a.scope == 253
        ));
    }

    #[test]
    fn truncated_and_error_dumps() {
        assert_eq!(parse_dump(&[1, 2, 3]).unwrap(), vec![]);
        let mut err = Vec::new();
        err.extend_from_slice(&20u32.to_ne_bytes());
        err.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        err.extend_from_slice(&[0; 10]);
        err.extend_from_slice(&(-13i32).to_ne_bytes());
        assert!(parse_dump(&err).is_err());
    }

    #[test]
    fn live_dump_works_here() {
        // Every Linux machine has at least the loopback address.
        let addrs = parse_dump(&dump_live().unwrap()).unwrap();
        assert!(addrs.iter().any(|a| a.addr.is_loopback()));
    }
}
