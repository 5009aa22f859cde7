// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Splitter
/// @notice A splitter that shares incoming ether.
contract SplitterTest010 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public treasurer;
    uint256 public protocolFeeBps;
    uint256 public totalHeld;
    bool public paused;
    mapping(address => uint256) public deposits;
    mapping(address => bool) public isMember;
    address[] public participants;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == treasurer, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        treasurer = msg.sender;
        protocolFeeBps = initialFee;
    }

    /// @notice The protocol fee on `amount`, in wei.
    function feeFor(uint256 amount) public view returns (uint256) {
        return amount * protocolFeeBps / BPS_DENOMINATOR;
    }

    /// @notice Stop or resume deposits.
    function setHalted(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function payMembers(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= participants.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            deposits[participants[i]] += share;
        }
        totalHeld += share * count;
    }

    /// @notice Add the caller to the member list once.
    function _register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        participants.push(msg.sender);
    }

    /// @notice Add the ether sent to the caller's balance.
    function deposit() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        deposits[msg.sender] += msg.value;
        totalHeld += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Send the caller's whole balance back to the caller.
    function withdrawAll() external {
        uint256 amount = deposits[msg.sender];
        require(amount > 0, "nothing to claim");
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        deposits[msg.sender] = 0;
        totalHeld -= amount;
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function updateFee(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(protocolFeeBps, newFee);
        protocolFeeBps = newFee;
    }

    /// @notice The ether the pool owes its members.
    function accountedEther() external view returns (uint256 sum) {
        for (uint256 i = 0; i < participants.length; i++) {
            sum += deposits[participants[i]];
        }
    }
}
