/**
 * The Intel DCAP collateral a verifier is given: dcap-qvl's `QuoteCollateralV3` JSON (field meanings in
 * intel-collateral.ts, which checks it). A file of its own because the verify options (trust.ts) name the
 * type while the checks import trust.ts's certificate helpers; with the type in either file they import
 * each other.
 */
export interface IntelCollateral {
  pck_crl_issuer_chain: string;
  root_ca_crl: string;
  pck_crl: string;
  tcb_info_issuer_chain: string;
  tcb_info: string;
  tcb_info_signature: string;
  qe_identity_issuer_chain: string;
  qe_identity: string;
  qe_identity_signature: string;
}
