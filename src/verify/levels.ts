// nixa's assurance levels as a service needs them: their order and acr values.
// From src/assurance/levels.ts, which imports nothing, so this module still needs jose only.
export { LEVELS, acrFor, atLeast, levelOfAcr, type Level } from '../assurance/levels.js';
