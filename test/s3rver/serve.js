'use strict';
// Starts s3rver for the integration tests (test/integration/s3rver.py):
//   node serve.js CONFIG_JSON
// CONFIG_JSON: {"directory", "bucket", "accessKeyId", "secretAccessKey", "key"?, "cert"?}. Listens on
// 127.0.0.1 on a port the kernel picks and prints one line `{"port": N}` to stdout once it accepts
// connections; each request is logged to stderr as `request: METHOD TARGET STATUS` (the target as
// sent, undecoded), next to s3rver's own warnings and errors. Exits on SIGTERM after closing the server.
//
// s3rver 3.7 knows one hard-coded key pair (S3RVER/S3RVER). It is replaced by the test's own pair,
// so that any other access key id is refused with InvalidAccessKeyId. NOTE: s3rver 3.7 checks only
// the form of a SigV4 Authorization header, the access key id and the clock skew, not the signature
// itself (lib/middleware/authentication.js: "Signature version 4 calculation is unimplemented").
const fs = require('fs');
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');

const config = JSON.parse(process.argv[2]);
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
AWSAccount.DUMMY_ACCOUNT.createKeyPair(config.accessKeyId, config.secretAccessKey);

const tls = config.key && config.cert ? { key: fs.readFileSync(config.key), cert: fs.readFileSync(config.cert) } : {};
const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  directory: config.directory,
  configureBuckets: [{ name: config.bucket }],
  vhostBuckets: false,
  silent: false,
  ...tls,
});

// s3rver's own log: warnings and errors only (its info level repeats each request, cut short), and
// on stderr: stdout carries the port line only.
server.logger.transports.forEach(transport => {
  transport.level = 'warn';
  transport.stderrLevels = Object.fromEntries(Object.keys(server.logger.levels).map(level => [level, true]));
});

function logRequests(httpServer) {
  httpServer.on('request', (req, res) => {
    res.on('finish', () => process.stderr.write(`request: ${req.method} ${req.url} ${res.statusCode}\n`));
  });
}

server.run().then(
  address => {
    logRequests(server.httpServer);
    process.stdout.write(JSON.stringify({ port: address.port }) + '\n');
  },
  error => {
    process.stderr.write(`s3rver did not start: ${error.stack || error}\n`);
    process.exit(1);
  },
);

process.on('SIGTERM', () => server.close().then(() => process.exit(0), () => process.exit(1)));
