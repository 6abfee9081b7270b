import { readFile } from 'node:fs/promises';
import { CasedropError, ErrorCode } from '../errors.js';
import { deviceDoorDeps, type DriveRoleDeps } from '../sftp/index.js';
import { startFtps, type FtpsDoor } from './server.js';

/** The FTPS door, wired to the same tokens, limits and intake path as the SFTP/SCP door. */
export async function startFtpsDoor(deps: DriveRoleDeps): Promise<FtpsDoor> {
  const { config } = deps;
  if (!config.ftpsTlsCert || !config.ftpsTlsKey) {
    throw new CasedropError(
      ErrorCode.ConfigInvalid,
      'CASEDROP_FTPS_ENABLED needs CASEDROP_FTPS_TLS_CERT and CASEDROP_FTPS_TLS_KEY: plain FTP is never offered',
    );
  }
  const logger = deps.logger.child({ stage: 'ftps' });
  // the SFTP door (or the upload role) sweeps expired uploads; this door only adds to them
  const { auth, sink, close } = await deviceDoorDeps({ ...deps, logger });
  const tls = { cert: await readFile(config.ftpsTlsCert), key: await readFile(config.ftpsTlsKey) };
  const door = await startFtps({
    host: config.ftpsHost,
    port: config.ftpsPort,
    ...(config.ftpsImplicitPort !== undefined ? { implicitPort: config.ftpsImplicitPort } : {}),
    tls,
    passivePorts: config.ftpsPassivePorts,
    ...(config.ftpsPublicAddress ? { publicAddress: config.ftpsPublicAddress } : {}),
    greeting: `casedrop upload drive (FTPS, upload only): log in with the case number and an upload token. ${config.driveRetention}`,
    auth,
    sink,
    logger,
  });
  return { ...door, stop: async () => (await door.stop(), await close()) };
}
