"""Authentication and authorization: bearer tokens, JWTs, roles, reload, secrets, startup.

One auth file serves most tests: three static tokens (read, write, admin) and
a `jwt` section trusting an Ed25519 public key and an HS256 secret taken from
the environment. JWTs are signed here without libraries: EdDSA through
`openssl pkeyutl`, HS256 with hmac.
"""

import base64
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (HOST, Server, ServerTestCase, bearer, free_port, launch_server, new_database, run_cli,
                     stmt)

SECRET_ENV = "MONOLITE_JWT_SECRET"
OPENSSL_TIMEOUT_S = 10.0
RELOAD_TIMEOUT_S = 5.0

# (method, path, body) of every route that needs a token; bodies are valid for each route.
QUERY = ("POST", "/sql/query", {"sql": "SELECT 1"})
EXECUTE = ("POST", "/sql/execute", {"sql": "SELECT 1"})
BATCH = ("POST", "/sql/batch", {"statements": [{"sql": "SELECT 1"}]})
METRICS = ("GET", "/metrics", None)
PROTECTED = (QUERY, EXECUTE, BATCH, METRICS)

# Which protected routes each role may use.
ALLOWED = {
    "read": {"/sql/query"},
    "write": {"/sql/query", "/sql/execute", "/sql/batch"},
    "admin": {"/sql/query", "/sql/execute", "/sql/batch", "/metrics"},
}


# ------------------------------------------------------------------ credentials


def sha256_hex(text):
    return hashlib.sha256(text.encode()).hexdigest()


def new_token():
    return "mlt_" + secrets.token_urlsafe(24)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def make_ed25519_key(workdir, name):
    """(private key path, public key path) of a fresh Ed25519 key pair, as PEM."""
    private = os.path.join(workdir, f"{name}.key.pem")
    public = os.path.join(workdir, f"{name}.pub.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", private],
                   check=True, capture_output=True, timeout=OPENSSL_TIMEOUT_S)
    subprocess.run(["openssl", "pkey", "-in", private, "-pubout", "-out", public],
                   check=True, capture_output=True, timeout=OPENSSL_TIMEOUT_S)
    return private, public


def eddsa_signature(signing_input, private_key, workdir):
    message = os.path.join(workdir, f"jwt-input-{secrets.token_hex(8)}")
    with open(message, "wb") as out:
        out.write(signing_input.encode())
    try:
        result = subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", private_key,
                                 "-in", message], check=True, capture_output=True,
                                timeout=OPENSSL_TIMEOUT_S)
    finally:
        os.remove(message)
    assert len(result.stdout) == 64, result
    return result.stdout


def hs256_signature(signing_input, secret, digest=hashlib.sha256):
    key = secret if isinstance(secret, bytes) else secret.encode()
    return hmac.new(key, signing_input.encode(), digest).digest()


def now():
    return int(time.time())


def valid_claims(**claims):
    """Claims valid for the next hour (a `sub`, `iat` and `exp`), plus `claims`."""
    base = {"sub": "tester", "iat": now(), "exp": now() + 3600}
    base.update(claims)
    return {k: v for k, v in base.items() if v is not None}


def auth_file_text(tokens, public_key=None, secret_env=None):
    """YAML with `tokens` as (name, token, role) and an optional jwt section."""
    lines = ["tokens:"] if tokens else ["tokens: []"]
    for name, token, role in tokens:
        lines.append(f'  - {{name: {name}, sha256: "{sha256_hex(token)}", role: {role}}}')
    if public_key or secret_env:
        lines.append("jwt:")
        if public_key:
            lines.append(f"  ed25519_public_key_file: {public_key}")
        if secret_env:
            lines.append(f"  hs256_secret_env: {secret_env}")
    return "\n".join(lines) + "\n"


def write_file(path, text):
    """Replaces `path` atomically, so a reload never reads half a file."""
    scratch = path + ".tmp"
    with open(scratch, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(scratch, path)
    return path


class Credentials:
    """Static tokens of each role, an Ed25519 key pair, an HS256 secret and an auth file."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.tokens = {role: new_token() for role in ALLOWED}
        self.secret = "hs-" + secrets.token_urlsafe(32)
        self.private_key, self.public_key = make_ed25519_key(workdir, "jwt")
        self.other_private_key, _ = make_ed25519_key(workdir, "other")
        self.auth_path = write_file(os.path.join(workdir, "auth.yaml"), auth_file_text(
            [(f"{role}-client", token, role) for role, token in self.tokens.items()],
            public_key=self.public_key, secret_env=SECRET_ENV))

    def env(self):
        return {SECRET_ENV: self.secret}

    def eddsa(self, claims, header=None, key=None):
        head = {"alg": "EdDSA", "typ": "JWT"} if header is None else header
        signing_input = f"{b64url_json(head)}.{b64url_json(claims)}"
        signature = eddsa_signature(signing_input, key or self.private_key, self.workdir)
        return f"{signing_input}.{b64url(signature)}"

    def hs256(self, claims, header=None, secret=None, digest=hashlib.sha256):
        head = {"alg": "HS256", "typ": "JWT"} if header is None else header
        signing_input = f"{b64url_json(head)}.{b64url_json(claims)}"
        signature = hs256_signature(signing_input, self.secret if secret is None else secret,
                                     digest)
        return f"{signing_input}.{b64url(signature)}"

    def signers(self):
        return {"EdDSA": self.eddsa, "HS256": self.hs256}


# -------------------------------------------------------------------- test cases


class AuthTestCase(ServerTestCase):
    def call(self, client, route, headers=None):
        method, path, body = route
        raw = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json"} if raw is not None else {}
        all_headers.update(headers or {})
        return client.request(method, path, raw, all_headers)

    def assert_unauthorized(self, resp):
        error = self.assert_error(resp, 401, "UNAUTHORIZED")
        self.assertRegex(resp.header("www-authenticate") or "", r"^Bearer\b",
                         "401 without WWW-Authenticate: Bearer")
        return error

    def assert_forbidden(self, resp):
        return self.assert_error(resp, 403, "FORBIDDEN")

    def assert_allowed(self, resp):
        self.assertEqual(resp.status, 200, resp.raw[:1000])


class SharedAuthServerTestCase(AuthTestCase):
    """One server with Credentials for the whole class; self.http has no token."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = tempfile.TemporaryDirectory(prefix="monolite-it-")
        cls.addClassCleanup(tmp.cleanup)
        cls.creds = Credentials(tmp.name)
        cls.server = launch_server(tmp.name, ("--auth", cls.creds.auth_path),
                                   env=cls.creds.env())
        cls.addClassCleanup(cls.server.stop_and_check)

    def setUp(self):
        super().setUp()
        self.http = self.client(self.server)

    def as_role(self, role):
        return bearer(self.creds.tokens[role])


class TokenTest(SharedAuthServerTestCase):
    def test_health_and_readiness_need_no_token(self):
        self.assertEqual(self.assert_ok(self.http.get("/healthz")), {"status": "ok"})
        self.assertEqual(self.assert_ok(self.http.get("/readyz")), {"status": "ready"})

    def test_missing_header_is_401_on_every_protected_route(self):
        for route in PROTECTED:
            with self.subTest(path=route[1]):
                self.assert_unauthorized(self.call(self.http, route))

    def test_missing_token_is_401_whatever_the_body(self):
        for path in ("/sql/query", "/sql/execute", "/sql/batch"):
            for body, content_type in ((b"{not json", "application/json"),
                                       (b'{"sql":"SELECT 1"}', "text/plain"), (b"", None)):
                with self.subTest(path=path, body=body, content_type=content_type):
                    headers = {"Content-Type": content_type} if content_type else {}
                    self.assert_unauthorized(self.http.request("POST", path, body, headers))

    def test_wrong_scheme_or_malformed_header_is_401(self):
        token = self.creds.tokens["admin"]
        basic = base64.b64encode(f"admin:{token}".encode()).decode()
        for value in (f"Basic {basic}", f"Token {token}", f"Bearer{token}", token,
                      "Bearer", "Bearer ", f"Bearer {token} {token}", f"Bearer {token},x"):
            for route in (QUERY, METRICS):
                with self.subTest(header=value[:20], path=route[1]):
                    self.assert_unauthorized(self.call(self.http, route,
                                                       {"Authorization": value}))

    def test_unknown_tokens_are_401(self):
        admin = self.creds.tokens["admin"]
        for token in (new_token(), admin[:-1], admin + "x", admin.upper(), "admin-client",
                      "admin", sha256_hex(admin), sha256_hex(admin).upper()):
            for route in PROTECTED:
                with self.subTest(token=token[:12], path=route[1]):
                    self.assert_unauthorized(self.call(self.http, route, bearer(token)))

    def test_each_role_on_each_route(self):
        for role in ALLOWED:
            for route in PROTECTED:
                with self.subTest(role=role, path=route[1]):
                    resp = self.call(self.http, route, self.as_role(role))
                    if route[1] in ALLOWED[role]:
                        self.assert_allowed(resp)
                    else:
                        self.assert_forbidden(resp)

    def test_forbidden_is_decided_before_the_body_is_read(self):
        for path in ("/sql/execute", "/sql/batch"):
            with self.subTest(path=path):
                resp = self.http.request("POST", path, b"{not json", {
                    "Content-Type": "application/json", **self.as_role("read")})
                self.assert_forbidden(resp)

    def test_read_token_cannot_write_through_any_route(self):
        writer = self.client(self.server, headers=self.as_role("write"))
        self.assert_ok(writer.execute("CREATE TABLE IF NOT EXISTS guarded(x text)"))
        self.addCleanup(writer.execute, "DROP TABLE guarded")
        self.assert_ok(writer.execute("INSERT INTO guarded VALUES ('kept')"))
        reader = self.client(self.server, headers=self.as_role("read"))

        resp = reader.query("INSERT INTO guarded VALUES ('query')")
        self.assertIn(resp.status, (400, 403), resp.raw[:500])
        self.assertIsNotNone(resp.body, resp.raw[:500])
        self.assert_forbidden(reader.execute("INSERT INTO guarded VALUES ('execute')"))
        self.assert_forbidden(reader.execute("DELETE FROM guarded"))
        self.assert_forbidden(reader.execute_many([stmt("SELECT 1"),
                                                   stmt("DROP TABLE guarded")]))
        self.assert_forbidden(reader.batch([stmt("SELECT count(*) FROM guarded"),
                                            stmt("INSERT INTO guarded VALUES ('batch')")]))
        self.assert_forbidden(reader.batch([stmt("SELECT 1")]))

        self.assertEqual(self.query_rows(reader, "SELECT x FROM guarded"), [["kept"]])


class JwtTest(SharedAuthServerTestCase):
    def assert_role_of(self, token, role):
        """`token` may use exactly the routes of `role`."""
        for route in PROTECTED:
            with self.subTest(role=role, path=route[1]):
                resp = self.call(self.http, route, bearer(token))
                if route[1] in ALLOWED[role]:
                    self.assert_allowed(resp)
                else:
                    self.assert_forbidden(resp)

    def assert_rejected(self, token):
        for route in (QUERY, METRICS):
            with self.subTest(token=token[:40], path=route[1]):
                self.assert_unauthorized(self.call(self.http, route, bearer(token)))

    def test_role_claim(self):
        for alg, sign in self.creds.signers().items():
            for role in ALLOWED:
                with self.subTest(alg=alg, role=role):
                    self.assert_role_of(sign(valid_claims(role=role)), role)

    def test_sqld_access_claim(self):
        for alg, sign in self.creds.signers().items():
            with self.subTest(alg=alg, a="ro"):
                self.assert_role_of(sign(valid_claims(a="ro")), "read")
            with self.subTest(alg=alg, a="rw"):
                self.assert_role_of(sign(valid_claims(a="rw")), "write")

    def test_no_role_claim_means_write(self):
        for alg, sign in self.creds.signers().items():
            with self.subTest(alg=alg):
                self.assert_role_of(sign(valid_claims()), "write")

    def test_read_jwt_cannot_write(self):
        for alg, sign in self.creds.signers().items():
            with self.subTest(alg=alg):
                reader = self.client(self.server, headers=bearer(sign(valid_claims(a="ro"))))
                self.assert_forbidden(reader.execute("CREATE TABLE jwt_nope(x integer)"))
                self.assert_forbidden(reader.batch([stmt("CREATE TABLE jwt_nope(x integer)")]))
                self.assert_error(reader.query("SELECT * FROM jwt_nope"), 400, "SQLITE_ERROR")

    def test_expired_and_not_yet_valid_are_401(self):
        for alg, sign in self.creds.signers().items():
            with self.subTest(alg=alg, case="expired"):
                self.assert_rejected(sign(valid_claims(role="admin", iat=now() - 7200,
                                                       exp=now() - 3600)))
            with self.subTest(alg=alg, case="nbf in the future"):
                self.assert_rejected(sign(valid_claims(role="admin", nbf=now() + 3600,
                                                       exp=now() + 7200)))

    def test_bad_signatures_are_401(self):
        claims = valid_claims(role="admin")
        good_eddsa = self.creds.eddsa(claims)
        good_hs256 = self.creds.hs256(claims)
        for good in (good_eddsa, good_hs256):
            head, body, signature = good.split(".")
            raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
            raw[0] ^= 1
            forged_body = b64url_json(valid_claims(role="admin", sub="someone-else"))
            for forged in (f"{head}.{body}.{b64url(bytes(raw))}",
                           f"{head}.{body}.",
                           f"{head}.{body}.{signature[:-4]}",
                           f"{head}.{forged_body}.{signature}"):
                self.assert_rejected(forged)
        self.assert_rejected(self.creds.eddsa(claims, key=self.creds.other_private_key))
        self.assert_rejected(self.creds.hs256(claims, secret="not-the-secret"))
        self.assert_rejected(self.creds.hs256(claims, secret=""))

    def test_alg_none_and_other_algs_are_401(self):
        claims = valid_claims(role="admin")
        body = b64url_json(claims)
        good_signature = self.creds.hs256(claims).split(".")[2]
        for alg in ("none", "None", "NONE", "nOnE"):
            head = b64url_json({"alg": alg, "typ": "JWT"})
            self.assert_rejected(f"{head}.{body}.")
            self.assert_rejected(f"{head}.{body}.{good_signature}")
        self.assert_rejected(f"{b64url_json({'typ': 'JWT'})}.{body}.{good_signature}")
        for alg in ("HS512", "HS384", "RS256", "ES256", "PS256", "hs256", "eddsa"):
            self.assert_rejected(self.creds.hs256(claims, header={"alg": alg, "typ": "JWT"}))
        self.assert_rejected(self.creds.hs256(claims, header={"alg": "HS512"},
                                              digest=hashlib.sha512))
        # EdDSA header over an HMAC, and HS256 keyed with the public key (key confusion).
        self.assert_rejected(self.creds.hs256(claims, header={"alg": "EdDSA"}))
        with open(self.creds.public_key, "rb") as pem:
            public_pem = pem.read()
        self.assert_rejected(self.creds.hs256(claims, secret=public_pem))
        self.assert_rejected(self.creds.eddsa(claims, header={"alg": "HS256"}))

    def test_malformed_jwts_are_401(self):
        good = self.creds.hs256(valid_claims(role="admin"))
        head, body, signature = good.split(".")
        for token in (f"{head}.{body}", f"{head}.{body}.{signature}.{signature}", "..", "a.b.c",
                      f"{b64url(b'not json')}.{body}.{signature}",
                      f"{head}.{b64url(b'[1,2]')}.{signature}",
                      f"{head}.{b64url_json({'role': 'admin', 'exp': 'tomorrow'})}.{signature}",
                      f"{head}!.{body}.{signature}"):
            self.assert_rejected(token)


class ReloadTest(AuthTestCase):
    def error_records(self, server):
        return [r for r in server.log_records() if r.get("level") == "error"]

    def ask(self, server, token, route):
        """One request on a fresh connection, so no state carries over a reload."""
        client = server.client(timeout=10.0, headers=bearer(token))
        try:
            return self.call(client, route)
        finally:
            client.close()

    def test_sighup_reloads_the_auth_file(self):
        workdir = self.make_tempdir()
        old, new = new_token(), new_token()
        auth = write_file(os.path.join(workdir, "auth.yaml"),
                          auth_file_text([("old", old, "write")]))
        server = self.start_server("--auth", auth, workdir=workdir)
        insert = ("POST", "/sql/execute", {"statements": [
            stmt("CREATE TABLE IF NOT EXISTS reload(x integer)"), stmt("INSERT INTO reload VALUES (1)")]})
        self.assert_ok(self.ask(server, old, insert))
        self.assert_unauthorized(self.ask(server, new, QUERY))

        # A token added to the file works after SIGHUP; a removed one stops working.
        write_file(auth, auth_file_text([("new", new, "write")]))
        server.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for_status(server, new, 200), "new token not accepted after SIGHUP")
        self.assert_ok(self.ask(server, new, insert))
        self.assert_unauthorized(self.ask(server, old, QUERY))

        # A broken file keeps the previous configuration and logs an error.
        errors_before = len(self.error_records(server))
        write_file(auth, "tokens: [ {name: broken, sha256: \n")
        server.send_signal(signal.SIGHUP)
        self.assertTrue(wait_until_logged(lambda: len(self.error_records(server)) > errors_before),
                        f"no error logged for a broken auth file; log:\n{server.log_tail()}")
        self.assertTrue(server.running(), "the server died on a broken auth file")
        self.assert_ok(self.ask(server, new, insert))
        self.assert_unauthorized(self.ask(server, old, QUERY))

        # Roles are reloaded too: the same token, now read-only.
        write_file(auth, auth_file_text([("new", new, "read")]))
        server.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for_status(server, new, 403, route=EXECUTE),
                        "role change not applied after SIGHUP")
        self.assert_forbidden(self.ask(server, new, insert))
        resp = self.ask(server, new, ("POST", "/sql/query", stmt("SELECT count(*) FROM reload")))
        self.assertEqual(self.assert_ok(resp)["rows"], [[3]])


def wait_for_status(server, token, status, route=QUERY, timeout=RELOAD_TIMEOUT_S):
    """Polls `route` with `token` on fresh connections until it answers `status`."""
    method, path, body = route

    def answered():
        client = server.client(timeout=2.0, headers=bearer(token))
        try:
            resp = client.request(method, path, json.dumps(body).encode(),
                                  {"Content-Type": "application/json"})
            return resp.status == status
        finally:
            client.close()

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answered():
            return True
        time.sleep(0.05)
    return False


def wait_until_logged(predicate, timeout=RELOAD_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


class SecretsNotLoggedTest(AuthTestCase):
    def test_tokens_and_secrets_never_reach_the_log_or_responses(self):
        workdir = self.make_tempdir()
        creds = Credentials(workdir)
        server = self.start_server("--auth", creds.auth_path, "--log-level", "debug",
                                   env=creds.env(), workdir=workdir)
        client = self.client(server)
        sent = []  # every credential presented, good or bad
        bodies = []

        def present(token, scheme="Bearer"):
            sent.append(token)
            for route in PROTECTED:
                resp = self.call(client, route, {"Authorization": f"{scheme} {token}"})
                self.assertGreaterEqual(resp.status, 200)
                bodies.append(resp.raw)

        for token in creds.tokens.values():
            present(token)
            present(token[:-1] + ("A" if token[-1] != "A" else "B"))  # near miss
            present(token, scheme="Basic")
        present(new_token())
        for sign in creds.signers().values():
            present(sign(valid_claims(role="admin")))
            present(sign(valid_claims(a="ro")))
            present(sign(valid_claims(exp=now() - 3600)))
            present(sign(valid_claims(nbf=now() + 3600)))
        present(creds.hs256(valid_claims(), secret="wrong-" + creds.secret))
        present(creds.eddsa(valid_claims(), key=creds.other_private_key))
        present(f"{b64url_json({'alg': 'none'})}.{b64url_json(valid_claims())}.")
        # A reload, good and broken, must not print the file's secrets either.
        server.send_signal(signal.SIGHUP)
        write_file(creds.auth_path, "tokens: [ {name: broken\n")
        server.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        self.assertEqual(server.stop(), 0, server.log_tail())

        log = server.log_text()
        self.assertTrue(log, "the server logged nothing at debug level")
        secrets_to_hide = {"HS256 secret": creds.secret}
        for index, token in enumerate(sent):
            secrets_to_hide[f"credential {index}"] = token
            if token.count(".") == 2 and not token.endswith("."):
                secrets_to_hide[f"signature of credential {index}"] = token.rsplit(".", 1)[1]
        for name, secret in secrets_to_hide.items():
            with self.subTest(secret=name):
                self.assertNotIn(secret, log, f"{name} appears in the server log")
                for body in bodies:
                    self.assertNotIn(secret.encode(), body, f"{name} appears in a response")


class StartupTest(AuthTestCase):
    def setUp(self):
        self.workdir = self.make_tempdir()
        self.db_path = new_database(self.workdir)

    def run_serve(self, *args, env=None):
        try:
            return run_cli(["serve", "--db", self.db_path, *args], env=env, timeout=5)
        except subprocess.TimeoutExpired:
            self.fail(f"monolite serve {' '.join(args)} did not exit within 5 s")

    def serve_public(self, *args, env=None):
        port = free_port()
        server = Server(self.workdir, ["--db", self.db_path, "--listen", f"0.0.0.0:{port}",
                                       *args], port, env=env)
        return self.start_custom_server(server)

    def test_public_listen_without_auth_exits_2(self):
        port = free_port()
        cases = [
            (["--listen", f"0.0.0.0:{port}"], None),
            (["--listen", f"0.0.0.0:{port}", "--insecure-no-auth", "false"], None),
            ([], {"MONOLITE_LISTEN": f"0.0.0.0:{port}"}),
        ]
        for args, env in cases:
            with self.subTest(args=args, env=env):
                result = self.run_serve(*args, env=env)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("--auth", result.stderr)
                self.assertIn("--insecure-no-auth", result.stderr)

    def test_public_listen_with_insecure_flag_serves_without_tokens(self):
        server = self.serve_public("--insecure-no-auth", "true")
        self.assertEqual(self.query_rows(self.client(server), "SELECT 1"), [[1]])

    def test_public_listen_with_auth_requires_tokens(self):
        token = new_token()
        auth = write_file(os.path.join(self.workdir, "auth.yaml"),
                          auth_file_text([("app", token, "write")]))
        server = self.serve_public("--auth", auth)
        self.assert_unauthorized(self.client(server).query("SELECT 1"))
        self.assertEqual(self.query_rows(self.client(server, headers=bearer(token)),
                                         "SELECT 1"), [[1]])

    def test_loopback_without_auth_checks_nothing(self):
        server = self.start_server(workdir=self.workdir)
        for headers in ({}, bearer("not-a-known-token"), {"Authorization": "Basic Zm9vOmJhcg=="}):
            client = self.client(server, headers=headers)
            for route in PROTECTED:
                with self.subTest(headers=headers, path=route[1]):
                    self.assert_allowed(self.call(client, route))

    def test_auth_from_the_environment(self):
        token = new_token()
        auth = write_file(os.path.join(self.workdir, "auth.yaml"),
                          auth_file_text([("ops", token, "admin")]))
        server = self.start_server(env={"MONOLITE_AUTH": auth}, workdir=self.workdir)
        self.assert_unauthorized(self.client(server).get("/metrics"))
        self.assert_allowed(self.client(server, headers=bearer(token)).get("/metrics"))

    def test_json_auth_file(self):
        creds = Credentials(self.workdir)
        auth = write_file(os.path.join(self.workdir, "auth.json"), json.dumps({
            "tokens": [{"name": "reader", "sha256": sha256_hex(creds.tokens["read"]),
                        "role": "read"}],
            "jwt": {"ed25519_public_key_file": creds.public_key,
                    "hs256_secret_env": SECRET_ENV},
        }))
        server = self.start_server("--auth", auth, env=creds.env(), workdir=self.workdir)
        reader = self.client(server, headers=bearer(creds.tokens["read"]))
        self.assertEqual(self.query_rows(reader, "SELECT 1"), [[1]])
        self.assert_forbidden(reader.execute("SELECT 1"))
        self.assert_unauthorized(self.client(server, headers=bearer(creds.tokens["admin"]))
                                 .query("SELECT 1"))
        for sign in creds.signers().values():
            jwt_client = self.client(server, headers=bearer(sign(valid_claims(role="admin"))))
            self.assert_allowed(jwt_client.get("/metrics"))

    def test_bad_auth_file_exits_2_naming_the_flag(self):
        token = new_token()
        garbage_key = write_file(os.path.join(self.workdir, "garbage.pem"),
                                 "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
        good_entry = f'  - {{name: app, sha256: "{sha256_hex(token)}", role: write}}\n'
        cases = {
            "missing file": None,
            "not yaml": "tokens: [ {name: app, sha256: \n",
            "not a mapping": "- just\n- a list\n",
            "tokens not a list": "tokens: {name: app}\n",
            "short hash": "tokens:\n  - {name: app, sha256: \"abc123\", role: write}\n",
            "hash not hex": f"tokens:\n  - {{name: app, sha256: \"{'z' * 64}\", role: write}}\n",
            "missing hash": "tokens:\n  - {name: app, role: write}\n",
            "unknown role": f'tokens:\n  - {{name: app, sha256: "{sha256_hex(token)}", role: root}}\n',
            "missing public key file": "tokens:\n" + good_entry +
                f"jwt:\n  ed25519_public_key_file: {self.workdir}/nope.pem\n",
            "public key file not a key": "tokens:\n" + good_entry +
                f"jwt:\n  ed25519_public_key_file: {garbage_key}\n",
            # A raw token pasted where its digest belongs must not be echoed back.
            "raw token as hash": f'tokens:\n  - {{name: app, sha256: "{token}", role: write}}\n',
            "raw token, unterminated": f'tokens:\n  - {{name: app, sha256: "{token}\n',
        }
        for name, text in cases.items():
            with self.subTest(case=name):
                path = os.path.join(self.workdir, "missing.yaml" if text is None
                                    else f"auth-{len(name)}-{name.replace(' ', '-')}.yaml")
                if text is not None:
                    write_file(path, text)
                result = self.run_serve("--listen", f"{HOST}:{free_port()}", "--auth", path)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("--auth", result.stderr)
                self.assertNotIn(token, result.stderr + result.stdout)


if __name__ == "__main__":
    unittest.main()
