// Names the platform's Docker objects share: the image builder creates them, the server uses them.

/** Label on every container, network and volume the platform owns. */
export const OWNER_LABEL = 'org.dockyard.owner';

/** The bridge network sandboxes and the mirror share. */
export const SANDBOX_NETWORK = 'dockyard-sandboxes';
/** The mirror container, its data volume, and the name sandboxes reach it by. */
export const MIRROR_CONTAINER = 'dockyard-mirror';
export const MIRROR_VOLUME = 'dockyard-mirror-data';
export const MIRROR_ALIAS = 'mirror';
/** What a sandbox's inner engine uses as its registry mirror. */
export const MIRROR_URL_FOR_SANDBOXES = `http://${MIRROR_ALIAS}:5000`;

/** The sandbox image on the host engine. */
export const SANDBOX_IMAGE = 'dockyard/sandbox:latest';
