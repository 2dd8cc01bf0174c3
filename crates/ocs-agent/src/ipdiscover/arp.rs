//! ARP frames (RFC 826 over Ethernet): the who-has request a scan broadcasts, and the
//! reading of replies. Pure functions, so they are tested without a network.

use std::net::Ipv4Addr;

/// Length of an Ethernet frame carrying an ARP request, padded to Ethernet's 60-byte
/// minimum (without the FCS), which some drivers do not pad themselves.
pub const FRAME_LEN: usize = 60;
const ETHERTYPE_ARP: [u8; 2] = [0x08, 0x06];
const HTYPE_ETHERNET: [u8; 2] = [0x00, 0x01];
const PTYPE_IPV4: [u8; 2] = [0x08, 0x00];
const OP_REQUEST: [u8; 2] = [0x00, 0x01];
const OP_REPLY: [u8; 2] = [0x00, 0x02];

/// A broadcast "who has `target`? tell `our_ip`" from `our_mac`.
pub fn request(our_mac: [u8; 6], our_ip: Ipv4Addr, target: Ipv4Addr) -> [u8; FRAME_LEN] {
    let mut f = [0u8; FRAME_LEN];
    f[0..6].copy_from_slice(&[0xff; 6]);
    f[6..12].copy_from_slice(&our_mac);
    f[12..14].copy_from_slice(&ETHERTYPE_ARP);
    f[14..16].copy_from_slice(&HTYPE_ETHERNET);
    f[16..18].copy_from_slice(&PTYPE_IPV4);
    f[18] = 6;
    f[19] = 4;
    f[20..22].copy_from_slice(&OP_REQUEST);
    f[22..28].copy_from_slice(&our_mac);
    f[28..32].copy_from_slice(&our_ip.octets());
    // Target hardware address stays zero: that is what we ask for.
    f[38..42].copy_from_slice(&target.octets());
    f
}

/// The sender of an ARP reply addressed to `our_ip`: (its address, its MAC). Anything else
/// (requests, other protocols, replies to someone else, truncated frames) is `None`.
pub fn reply_sender(frame: &[u8], our_ip: Ipv4Addr) -> Option<(Ipv4Addr, [u8; 6])> {
    if frame.len() < 42
        || frame[12..14] != ETHERTYPE_ARP
        || frame[14..16] != HTYPE_ETHERNET
        || frame[16..18] != PTYPE_IPV4
        || frame[18] != 6
        || frame[19] != 4
        || frame[20..22] != OP_REPLY
    {
        return None;
    }
    let target_ip = Ipv4Addr::new(frame[38], frame[39], frame[40], frame[41]);
    if target_ip != our_ip {
        return None;
    }
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&frame[22..28]);
    let ip = Ipv4Addr::new(frame[28], frame[29], frame[30], frame[31]);
    Some((ip, mac))
}

/// `xx:xx:xx:xx:xx:xx`, lower case, as OCS agents write MACs.
pub fn mac_text(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Reads `xx:xx:xx:xx:xx:xx` (as in `/sys/class/net/*/address`).
pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.trim().split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: [u8; 6] = [0x00, 0x16, 0x3e, 0x0a, 0x00, 0x10];
    const ME: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);

    /// The reply a host would send to `request`.
    fn answer(request: &[u8], mac: [u8; 6]) -> Vec<u8> {
        let mut r = request.to_vec();
        r[0..6].copy_from_slice(&request[6..12]);
        r[6..12].copy_from_slice(&mac);
        r[20..22].copy_from_slice(&OP_REPLY);
        r[32..38].copy_from_slice(&request[22..28]);
        r[38..42].copy_from_slice(&request[28..32]);
        r[22..28].copy_from_slice(&mac);
        r[28..32].copy_from_slice(&request[38..42]);
        r
    }

    #[test]
    fn request_layout() {
        let f = request(OURS, ME, Ipv4Addr::new(192, 0, 2, 21));
        assert_eq!(&f[0..6], &[0xff; 6]);
        assert_eq!(&f[6..12], &OURS);
        assert_eq!(
            &f[12..22],
            &[0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]
        );
        assert_eq!(&f[28..32], &[192, 0, 2, 10]);
        assert_eq!(&f[32..38], &[0; 6]);
        assert_eq!(&f[38..42], &[192, 0, 2, 21]);
        assert_eq!(f.len(), 60);
    }

    #[test]
    fn replies_to_us_are_read_and_the_rest_ignored() {
        let host = [0x3c, 0x52, 0x82, 0x0a, 0x00, 0x16];
        let q = request(OURS, ME, Ipv4Addr::new(192, 0, 2, 22));
        let r = answer(&q, host);
        assert_eq!(
            reply_sender(&r, ME),
            Some((Ipv4Addr::new(192, 0, 2, 22), host))
        );
        assert_eq!(reply_sender(&r[..41], ME), None, "truncated");
        assert_eq!(reply_sender(&q, ME), None, "our own request");
        assert_eq!(
            reply_sender(&r, Ipv4Addr::new(192, 0, 2, 11)),
            None,
            "a reply to another machine"
        );
        let mut ip = r.clone();
        ip[12..14].copy_from_slice(&[0x08, 0x00]);
        assert_eq!(reply_sender(&ip, ME), None, "not ARP");
    }

    #[test]
    fn mac_text_round_trip() {
        assert_eq!(mac_text(OURS), "00:16:3e:0a:00:10");
        assert_eq!(parse_mac("00:16:3E:0a:00:10\n"), Some(OURS));
        assert_eq!(parse_mac("00:16:3e:0a:00"), None);
        assert_eq!(parse_mac("00:16:3e:0a:00:10:00"), None);
        assert_eq!(parse_mac("zz:16:3e:0a:00:10"), None);
    }
}
