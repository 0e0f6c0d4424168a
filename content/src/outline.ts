// The nine modules of the course and their lessons, in order (see shared/CURRICULUM.md).
import { courseSchema, type CourseModule } from './course.ts';

const l = (slug: string, title: string) => ({ slug, title });

export const outline: readonly CourseModule[] = courseSchema.parse([
  {
    slug: 'why-containers',
    title: 'Why containers',
    summary: 'Explain what problem containers solve and what a container really is on Linux.',
    lessons: [
      l('the-problem', 'The problem Docker solves'),
      l('containers-vs-vms', 'Containers vs virtual machines'),
      l('namespaces-and-cgroups', 'Under the hood: namespaces and cgroups'),
      l('architecture', "Docker's architecture"),
    ],
  },
  {
    slug: 'images',
    title: 'Images',
    summary: 'Pull, inspect, tag and share images, and know what a layer is.',
    lessons: [l('images-and-layers', 'Images and layers'), l('registries', 'Registries')],
  },
  {
    slug: 'containers',
    title: 'Containers',
    summary: 'Run, inspect, publish and manage containers through their whole life.',
    lessons: [
      l('container-lifecycle', 'The container lifecycle'),
      l('looking-inside', 'Looking inside a container'),
      l('publishing-ports', 'Publishing ports'),
    ],
  },
  {
    slug: 'building-images',
    title: 'Building images',
    summary: 'Write Dockerfiles that build small, cache-friendly images.',
    lessons: [
      l('first-dockerfile', 'A first Dockerfile'),
      l('instructions-in-depth', 'Instructions in depth'),
      l('build-cache', 'The build cache'),
      l('multi-stage-builds', 'Multi-stage builds'),
    ],
  },
  {
    slug: 'networking',
    title: 'Networking',
    summary: 'Connect containers by name and keep apart what should not talk.',
    lessons: [
      l('network-drivers', 'Network drivers'),
      l('user-defined-networks', 'User-defined networks and DNS'),
      l('network-isolation', 'Isolation between networks'),
    ],
  },
  {
    slug: 'storage',
    title: 'Storage',
    summary: 'Keep data beyond a container with volumes and bind mounts, and back it up.',
    lessons: [
      l('volumes', 'Volumes'),
      l('bind-mounts-and-tmpfs', 'Bind mounts and tmpfs'),
      l('backup-and-restore', 'Backup and restore a volume'),
    ],
  },
  {
    slug: 'compose',
    title: 'Compose',
    summary: 'Describe a multi-container app in one file and run it with one command.',
    lessons: [
      l('compose-basics', 'Compose basics'),
      l('configuration-and-secrets', 'Configuration and secrets'),
      l('start-order-and-scaling', 'Start order, health checks and scaling'),
      l('capstone', 'Capstone: a three-tier app'),
    ],
  },
  {
    slug: 'running-well',
    title: 'Running containers well',
    summary: 'Watch, secure and clean up what you run.',
    lessons: [
      l('logs-and-monitoring', 'Logs and monitoring'),
      l('security-practices', 'Security practices'),
      l('cleaning-up', 'Cleaning up'),
    ],
  },
  {
    slug: 'beyond-one-host',
    title: 'Beyond one host',
    summary: 'Run a replicated service with Swarm and know when to reach for Kubernetes.',
    lessons: [l('swarm', 'Swarm in the sandbox'), l('orchestration-overview', 'Orchestration overview')],
  },
]);

/** Every lesson in reading order, with its module. */
export const lessons = outline.flatMap((m) => m.lessons.map((lesson) => ({ ...lesson, module: m })));
