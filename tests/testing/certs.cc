#include "certs.h"

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "process.h"

namespace skillstore::testing {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

// Runs `openssl args...`; its output goes to dir/openssl.log.
absl::Status Openssl(const std::string& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {kOpenssl};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string log = absl::StrCat(dir, "/openssl.log");
  auto child = ChildProcess::Start(argv, log);
  if (!child.ok()) return child.status();
  absl::StatusOr<int> code = (*child)->Wait(absl::Seconds(60));
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(absl::StrJoin(argv, " "), " exited ", *code, ":\n",
                                            (*child)->ReadLog()));
  }
  return absl::OkStatus();
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

// A self-signed CA certificate and key: dir/<name>.pem, dir/<name>.key.
absl::Status MakeCa(const std::string& dir, const std::string& name) {
  return Openssl(dir, {"req", "-x509", "-newkey", "ec", "-pkeyopt",
                       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                       absl::StrCat(dir, "/", name, ".key"), "-out",
                       absl::StrCat(dir, "/", name, ".pem"), "-days", "2", "-subj",
                       absl::StrCat("/CN=skillstore test ", name), "-addext",
                       "basicConstraints=critical,CA:TRUE", "-addext",
                       "keyUsage=critical,keyCertSign,cRLSign"});
}

// A key and a certificate signed by CA `ca`, with the X.509 v3 extensions in
// `extensions` (one per line, openssl config syntax).
absl::Status MakeLeaf(const std::string& dir, const std::string& ca, const std::string& name,
                      const std::string& subject, const std::string& extensions) {
  const std::string base = absl::StrCat(dir, "/", name);
  if (absl::Status s = WriteFile(base + ".ext", extensions); !s.ok()) return s;
  if (absl::Status s = Openssl(dir, {"req", "-newkey", "ec", "-pkeyopt",
                                     "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                                     base + ".key", "-out", base + ".csr", "-subj", subject});
      !s.ok()) {
    return s;
  }
  return Openssl(dir, {"x509", "-req", "-in", base + ".csr", "-CA",
                       absl::StrCat(dir, "/", ca, ".pem"), "-CAkey",
                       absl::StrCat(dir, "/", ca, ".key"), "-CAcreateserial", "-out",
                       base + ".pem", "-days", "2", "-extfile", base + ".ext"});
}

}  // namespace

absl::StatusOr<TestCertificates> MakeTestCertificates(const std::string& dir) {
  if (absl::Status s = MakeCa(dir, "ca"); !s.ok()) return s;
  if (absl::Status s = MakeCa(dir, "other-ca"); !s.ok()) return s;
  if (absl::Status s = MakeLeaf(dir, "ca", "server", "/CN=localhost",
                                "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                "extendedKeyUsage=serverAuth\n");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = MakeLeaf(dir, "other-ca", "other-server", "/CN=localhost",
                                "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                "extendedKeyUsage=serverAuth\n");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = MakeLeaf(dir, "ca", "client", "/CN=test-client",
                                "extendedKeyUsage=clientAuth\n");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = MakeLeaf(dir, "other-ca", "other-client", "/CN=stranger",
                                "extendedKeyUsage=clientAuth\n");
      !s.ok()) {
    return s;
  }
  TestCertificates certs;
  certs.ca_cert = dir + "/ca.pem";
  certs.ca_key = dir + "/ca.key";
  certs.server_cert = dir + "/server.pem";
  certs.server_key = dir + "/server.key";
  certs.client_cert = dir + "/client.pem";
  certs.client_key = dir + "/client.key";
  certs.other_ca_cert = dir + "/other-ca.pem";
  certs.other_client_cert = dir + "/other-client.pem";
  certs.other_client_key = dir + "/other-client.key";
  certs.other_server_cert = dir + "/other-server.pem";
  certs.other_server_key = dir + "/other-server.key";
  return certs;
}

}  // namespace skillstore::testing
