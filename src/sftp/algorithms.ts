/**
 * SSH algorithms offered. Modern by default; `legacy` adds what old network devices still
 * need (SHA-1 key exchange and `ssh-rsa` host key signatures, CBC ciphers, HMAC-SHA1). ssh2's
 * server has no Diffie-Hellman group exchange, so group14 is the only classic DH a device finds.
 */
import type { Algorithms, CipherAlgorithm, KexAlgorithm, MacAlgorithm, ServerHostKeyAlgorithm } from 'ssh2';

export function sshAlgorithms(legacy: boolean): Algorithms {
  const modern = {
    kex: <KexAlgorithm[]>[
      'curve25519-sha256',
      'curve25519-sha256@libssh.org',
      'ecdh-sha2-nistp256',
      'ecdh-sha2-nistp384',
      'ecdh-sha2-nistp521',
      'diffie-hellman-group16-sha512',
      'diffie-hellman-group18-sha512',
      'diffie-hellman-group14-sha256',
    ],
    serverHostKey: <ServerHostKeyAlgorithm[]>['ssh-ed25519', 'rsa-sha2-512', 'rsa-sha2-256'],
    cipher: <CipherAlgorithm[]>['aes128-gcm@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr', 'aes192-ctr', 'aes256-ctr'],
    hmac: <MacAlgorithm[]>['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-512-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
    compress: ['none' as const],
  };
  if (!legacy) return modern;
  return {
    kex: [...modern.kex, 'diffie-hellman-group14-sha1'],
    serverHostKey: [...modern.serverHostKey, 'ssh-rsa'],
    cipher: [...modern.cipher, 'aes256-cbc', 'aes192-cbc', 'aes128-cbc'],
    hmac: [...modern.hmac, 'hmac-sha1'],
    compress: ['none' as const],
  };
}
