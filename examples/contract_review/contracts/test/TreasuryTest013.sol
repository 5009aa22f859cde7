// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Treasury
/// @notice A community treasury that pays its members.
contract TreasuryTest013 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public owner;
    uint256 public feeBps;
    uint256 public poolTotal;
    bool public paused;
    mapping(address => uint256) public stakes;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == owner, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        owner = msg.sender;
        feeBps = initialFee;
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function takeOut(uint256 amount) external {
        require(stakes[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount * feeBps / BPS_DENOMINATOR;
        stakes[msg.sender] -= amount;
        poolTotal -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }

    /// @notice The largest fee `amount` can be charged, in wei.
    function feeFor(uint256 amount) public pure returns (uint256) {
        uint256 feeBps = MAX_FEE_BPS;
        return amount * feeBps / BPS_DENOMINATOR;
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Add the caller to the member list once.
    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice Add the ether sent to the caller's balance.
    function fund() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        stakes[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function updateFee(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(feeBps, newFee);
        feeBps = newFee;
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function distribute(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= payees.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            stakes[payees[i]] += share;
        }
        poolTotal += share * count;
    }
}
