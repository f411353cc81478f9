// Entry point of one of the daemon's network threads (`kvd serve --network-threads N`): it
// serves the clients the main thread gives it (by fd) for as long as they send only plain
// GETs, read from the shared index with its own RecordReader, and connection-setup requests,
// SCAN, KEYS and RANDOMKEY, which the main thread runs for it; it gives each one back (by fd) at its first other request.
// What it does is NetworkService's (network-service.ts); its counters are float64s in shared
// memory, read by INFO.

import { parentPort, workerData } from 'node:worker_threads';
import type { NetworkThreadInit } from '../shared/network-messages.js';
import { NetworkService } from './network-service.js';

new NetworkService(workerData as NetworkThreadInit, parentPort!);
