export { SEALED_PREFIX, SecretCipher, secretKeyMaterial } from './cipher';
export { hasOpenSecrets, MASK, maskConfig, maskSecretsInBody, openSecrets, sealSecrets, withoutMasks } from './mask';
