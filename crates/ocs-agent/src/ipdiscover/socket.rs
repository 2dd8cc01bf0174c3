//! The one raw socket of a scan: `AF_PACKET`/`SOCK_RAW` bound to one interface and to the
//! ARP EtherType, so that it sends whole Ethernet frames there and receives only ARP. The
//! kernel allows it to root or to a process with `CAP_NET_RAW`; anyone else gets EPERM.

use std::os::fd::OwnedFd;
use std::time::Duration;

use rustix::io::Errno;
use rustix::net::addr::{SocketAddrArg, SocketAddrLen, SocketAddrOpaque};
use rustix::net::sockopt::{set_socket_timeout, Timeout};
use rustix::net::{bind, eth, recv, send, socket, AddressFamily, RecvFlags, SendFlags, SocketType};

/// `ETH_P_ARP`.
const ETH_P_ARP: u16 = 0x0806;

/// `struct sockaddr_ll` (linux/if_packet.h), which rustix does not provide: 20 bytes, no
/// padding, every field a plain integer.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct SockaddrLl {
    family: u16,
    /// Network byte order.
    protocol: u16,
    ifindex: i32,
    hatype: u16,
    pkttype: u8,
    halen: u8,
    addr: [u8; 8],
}

// SAFETY: `with_sockaddr` hands `f` a pointer to `self`, a `#[repr(C)]` value that lives
// for the whole call, with its exact size as the length; its layout is the kernel's
// `sockaddr_ll`, whose leading `family` field says AF_PACKET, so bind() reads a valid
// address of the length it is told.
unsafe impl SocketAddrArg for SockaddrLl {
    unsafe fn with_sockaddr<R>(
        &self,
        f: impl FnOnce(*const SocketAddrOpaque, SocketAddrLen) -> R,
    ) -> R {
        let len = std::mem::size_of::<SockaddrLl>() as SocketAddrLen;
        f(std::ptr::from_ref(self).cast(), len)
    }
}

/// A packet socket on one interface.
#[derive(Debug)]
pub struct ArpSocket {
    fd: OwnedFd,
}

impl ArpSocket {
    /// Opens the socket on interface `ifindex`. EPERM/EACCES mean the process lacks the
    /// privilege; the caller tells the operator.
    pub fn open(ifindex: u32) -> Result<ArpSocket, Errno> {
        let fd = socket(AddressFamily::PACKET, SocketType::RAW, Some(eth::ARP))?;
        let ifindex = i32::try_from(ifindex).map_err(|_| Errno::NODEV)?;
        let addr = SockaddrLl {
            family: AddressFamily::PACKET.as_raw(),
            protocol: ETH_P_ARP.to_be(),
            ifindex,
            hatype: 0,
            pkttype: 0,
            halen: 0,
            addr: [0; 8],
        };
        bind(&fd, &addr)?;
        Ok(ArpSocket { fd })
    }

    /// Sends one Ethernet frame (its header included) on the interface.
    pub fn send(&self, frame: &[u8]) -> Result<(), Errno> {
        send(&self.fd, frame, SendFlags::empty()).map(|_| ())
    }

    /// Waits at most `wait` for one frame; `Ok(None)` when none came in time.
    pub fn recv(&self, buf: &mut [u8], wait: Duration) -> Result<Option<usize>, Errno> {
        // A zero timeout would mean "block forever".
        let wait = wait.max(Duration::from_millis(1));
        set_socket_timeout(&self.fd, Timeout::Recv, Some(wait))?;
        match recv(&self.fd, buf, RecvFlags::empty()) {
            Ok((n, _)) => Ok(Some(n)),
            Err(e) if e == Errno::AGAIN || e == Errno::WOULDBLOCK || e == Errno::INTR => Ok(None),
            Err(e) => Err(e),
        }
    }
}
