// SPDX-License-Identifier: Apache-2.0
// Bridge.sol - the source-side contract xrelay reads on EVM chains: every
// send() emits one Sent event carrying the next sequence number of this
// contract, the destination and what to deliver there. The relay proves each
// event with the block header and a receipts-trie proof (adapters/evm/evidence.c).
pragma solidity ^0.8.24;

contract Bridge {
	/// recipient must be 1..64 bytes (the envelope's recipient limit).
	error BadRecipientLength(uint256 length);
	/// dstChain must be 3..41 bytes (the longest CAIP-2 chain id).
	error BadDstChainLength(uint256 length);
	/// dstChain must be a CAIP-2 chain id: [-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32};
	/// offset is the first byte that breaks the rule.
	error BadDstChain(uint256 offset);
	/// payload must be at most 65536 bytes (the envelope's payload limit).
	error PayloadTooLarge(uint256 length);

	/// One cross-chain transfer (amount > 0, the native coin sent with the
	/// call) or message (amount 0). sequence starts at 1 and grows by one
	/// per event of this contract.
	event Sent(
		uint64 indexed sequence,
		address indexed sender,
		string dstChain,
		bytes recipient,
		uint256 amount,
		bytes payload
	);

	/// The sequence number of the last event; 0 before the first.
	uint64 public sequence;

	/// Sends payload (and msg.value of the native coin) to recipient on
	/// dstChain. The coin stays locked in this contract. Returns the event's
	/// sequence number.
	function send(
		string calldata dstChain,
		bytes calldata recipient,
		bytes calldata payload
	) external payable returns (uint64 seq) {
		if (recipient.length < 1 || recipient.length > 64)
			revert BadRecipientLength(recipient.length);
		if (payload.length > 65536)
			revert PayloadTooLarge(payload.length);
		checkCaip2(bytes(dstChain));
		seq = ++sequence;
		emit Sent(seq, msg.sender, dstChain, recipient, msg.value, payload);
	}

	/// Refuses a dstChain the relay could not put into an envelope, so that
	/// every Sent event is deliverable.
	function checkCaip2(bytes calldata s) private pure {
		uint256 n = s.length;
		if (n < 3 || n > 41)
			revert BadDstChainLength(n);
		uint256 i = 0;
		for (; i < n && s[i] != ":"; i++) {
			bytes1 c = s[i];
			if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-"))
				revert BadDstChain(i);
		}
		if (i < 3 || i > 8 || i == n)
			revert BadDstChain(i);
		uint256 ref = i + 1;
		if (n - ref < 1 || n - ref > 32)
			revert BadDstChain(ref);
		for (uint256 j = ref; j < n; j++) {
			bytes1 c = s[j];
			if (!((c >= "a" && c <= "z") || (c >= "A" && c <= "Z") ||
			      (c >= "0" && c <= "9") || c == "-" || c == "_"))
				revert BadDstChain(j);
		}
	}
}
