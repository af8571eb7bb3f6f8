#include "server/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "core/error.h"

namespace openmapi::server {
namespace fs = std::filesystem;

namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;

[[noreturn]] void fail(const std::string& what) { throw_error(ErrorCode::MAPI_E_CALL_FAILED, "making a self-signed certificate: " + what); }

void add_extension(X509* cert, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) fail("extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Writes `pem` with `write` to `path` (mode `mode`), through a temporary file renamed over it.
template <typename W>
void write_pem(const fs::path& path, mode_t mode, W write) {
  const fs::path tmp = path.string() + ".tmp";
  const mode_t old = umask(0077);
  FILE* f = std::fopen(tmp.c_str(), "wb");
  umask(old);
  if (!f) fail("cannot write " + tmp.string());
  const bool ok = write(f);
  const bool closed = std::fclose(f) == 0;
  if (!ok || !closed) {
    fs::remove(tmp);
    fail("cannot write " + tmp.string());
  }
  chmod(tmp.c_str(), mode);
  fs::rename(tmp, path);
}

void make_pair(const fs::path& cert_path, const fs::path& key_path, const std::string& host) {
  PKey key(EVP_EC_gen("P-256"));
  if (!key) fail("no EC key");
  Cert cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 825L * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("OpenMAPI (self-signed)"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  std::string san = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (!host.empty() && host != "localhost") san = "DNS:" + host + "," + san;
  add_extension(cert.get(), NID_subject_alt_name, san);
  add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), NID_ext_key_usage, "serverAuth");
  if (!X509_sign(cert.get(), key.get(), EVP_sha256())) fail("signing");
  write_pem(key_path, 0600, [&](FILE* f) { return PEM_write_PrivateKey(f, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1; });
  write_pem(cert_path, 0644, [&](FILE* f) { return PEM_write_X509(f, cert.get()) == 1; });
}

}  // namespace

TlsFiles ensure_tls_files(const std::string& data_dir, const std::string& certificate, const std::string& private_key,
                          const std::string& host_name) {
  if (certificate.empty() != private_key.empty())
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "give both a certificate and its private key, or neither (for a self-signed pair)");
  if (!certificate.empty()) {
    for (const auto& f : {certificate, private_key})
      if (!fs::exists(f)) throw_error(ErrorCode::MAPI_E_NOT_FOUND, "no file " + f);
    return {certificate, private_key, false, false};
  }
  const fs::path dir = fs::path(data_dir) / "tls";
  const fs::path cert = dir / "server.crt", key = dir / "server.key";
  TlsFiles t{cert.string(), key.string(), true, false};
  if (fs::exists(cert) && fs::exists(key)) return t;
  fs::create_directories(dir);
  make_pair(cert, key, host_name.empty() ? "localhost" : host_name);
  t.created = true;
  return t;
}

void configure_server_tls(boost::asio::ssl::context& ctx, const std::string& certificate, const std::string& private_key) {
  namespace ssl = boost::asio::ssl;
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                  ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(certificate, ec);
  if (ec) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the certificate " + certificate + " cannot be used: " + ec.message());
  ctx.use_private_key_file(private_key, ssl::context::pem, ec);
  if (ec) throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the private key " + private_key + " cannot be used: " + ec.message());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    throw_error(ErrorCode::MAPI_E_INVALID_PARAMETER, "the private key " + private_key + " does not belong to " + certificate);
}

}  // namespace openmapi::server
