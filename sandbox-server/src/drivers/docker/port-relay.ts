// Connections to a port inside a sandbox. Straight over TCP where the server reaches the sandbox's
// address; otherwise (it is on another host's bridge) through a small relay run in the sandbox
// over its engine's API, which copies bytes between its stdin/stdout and 127.0.0.1:<port> there,
// where the learner's published ports listen. It is Perl, which the sandbox image has: nothing is
// added to the image.
import { connect, type Socket } from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import type Docker from 'dockerode';

/**
 * Connects to 127.0.0.1:$ARGV[0], then relays both ways; stdin's end half-closes the connection,
 * and the connection's end ends the relay. Exits 7, having printed nothing, when nothing listens.
 */
const RELAY = `
use IO::Socket::INET; use IO::Select;
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ARGV[0], Proto => 'tcp') or exit 7;
binmode STDIN; binmode STDOUT; binmode $s;
my $sel = IO::Select->new(\\*STDIN, $s); my $buf;
while ($sel->count) {
  for my $h ($sel->can_read) {
    my $n = sysread($h, $buf, 65536);
    my $up = fileno($h) == fileno($s);
    if (!$n) { exit 0 if $up; $sel->remove(\\*STDIN); shutdown($s, 1); next; }
    my $to = $up ? \\*STDOUT : $s;
    for (my $o = 0; $o < $n;) { my $w = syswrite($to, $buf, $n - $o, $o); exit 0 unless defined $w; $o += $w; }
  }
}`;

/** The relay's command: its absolute path, so a learner's PATH changes nothing. */
const relayCommand = (port: number): string[] => ['/usr/bin/perl', '-e', RELAY, String(port)];

/**
 * Runs the relay in `container` and returns its two ends as one stream: what is written goes to the
 * port, what the port sends is read. It ends at once, empty, when nothing listens on the port.
 */
export async function relayToPort(docker: Docker, container: Docker.Container, port: number): Promise<Duplex> {
  const exec = await container.exec({
    Cmd: relayCommand(port),
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
  const out = new PassThrough();
  docker.modem.demuxStream(stream, out, new PassThrough().resume());
  const relay = new Duplex({
    write(chunk: Buffer, _encoding, done) {
      stream.write(chunk, done);
    },
    final(done) {
      stream.end();
      done();
    },
    read() {
      out.resume();
    },
    destroy(err, done) {
      stream.destroy();
      done(err);
    },
  });
  out.on('data', (chunk: Buffer) => {
    if (!relay.push(chunk)) out.pause();
  });
  // The relay ends once the demuxed output has all been read.
  out.on('end', () => relay.push(null));
  stream.on('end', () => out.end());
  stream.on('close', () => out.end());
  stream.on('error', (err) => relay.destroy(err));
  return relay;
}

/** A TCP connection, once it is made; rejects with the socket's error (ECONNREFUSED: nothing listens). */
export function tcpConnect(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
