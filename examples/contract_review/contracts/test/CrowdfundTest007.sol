// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Crowdfund
/// @notice A crowdfund that records contributions.
contract CrowdfundTest007 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public serviceFeeBps;
    uint256 public totalHeld;
    bool public paused;
    mapping(address => uint256) public credits;
    mapping(address => bool) public isMember;
    address[] public payees;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        serviceFeeBps = initialFee;
    }

    function enroll() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        payees.push(msg.sender);
    }

    /// @notice The largest fee `amount` can be charged, in wei.
    function quoteFee(uint256 amount) public pure returns (uint256) {
        uint256 serviceFeeBps = MAX_FEE_BPS;
        return amount * serviceFeeBps / BPS_DENOMINATOR;
    }

    /// @notice Add the ether sent to the caller's balance.
    function fund() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        credits[msg.sender] += msg.value;
        totalHeld += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Set the protocol fee in basis points (at most MAX_FEE_BPS).
    function updateFee(uint256 newFee) external onlyOwner {
        require(newFee <= MAX_FEE_BPS, "fee too high");
        emit FeeChanged(serviceFeeBps, newFee);
        serviceFeeBps = newFee;
    }

    /// @notice Hand the contract to `newOwner`.
    function changeOwner(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero address");
        emit OwnerChanged(admin, newOwner);
        admin = newOwner;
    }

    /// @notice Send `amount` of the caller's balance back, less the protocol fee.
    function redeem(uint256 amount) external {
        require(credits[msg.sender] >= amount, "insufficient balance");
        uint256 fee = amount * serviceFeeBps / BPS_DENOMINATOR;
        credits[msg.sender] -= amount;
        totalHeld -= amount - fee;
        (bool ok, ) = payable(msg.sender).call{value: amount - fee}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount - fee);
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }
}
