#!/usr/bin/env node
// Copied beside the interop harness's scripts (tests/vc/test_presentations.py) and run there:
// signs, with the harness's fixed holder key and Digital Bazaar's stack, a presentation of
// every credential in the JSON array read from standard input. Prints the presentation.
//   node sign_presentation.mjs --challenge X [--suite eddsa-rdfc-2022|eddsa-jcs-2022] < creds.json
import * as vc from '@digitalbazaar/vc';

import {emit, parseCli, readJsonInput, run} from './lib/cli.mjs';
import {createDocumentLoader} from './lib/loader.mjs';
import {holderKey} from './lib/keys.mjs';
import {signingSuite} from './lib/suites.mjs';

const USAGE = 'node sign_presentation.mjs --challenge X [--suite SUITE] < credentials.json';

run(async () => {
  const {values} = parseCli({options: {
    challenge: {type: 'string'}, suite: {type: 'string', default: 'eddsa-rdfc-2022'}
  }});
  const credentials = await readJsonInput('-');
  const {documentLoader} = createDocumentLoader({});
  const key = await holderKey();
  const presentation = vc.createPresentation({verifiableCredential: credentials, holder: key.controller});
  emit(await vc.signPresentation({
    presentation, suite: signingSuite({suite: values.suite, keyPair: key}),
    challenge: values.challenge, documentLoader
  }));
}, USAGE);
